"""End-to-end workflows: fit, predict, the CLI and the README demo."""
