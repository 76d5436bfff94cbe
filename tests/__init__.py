"""specnet test suite (a package, so sub-folder names like tests/io never shadow the stdlib)."""
