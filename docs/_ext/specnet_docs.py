"""Sphinx extension of the specnet docs: tables generated from the code and the zoo.

Nothing in these tables is typed by hand, so they cannot drift from the package:

``.. specnet-zoo-table::``
    One row per JSON manifest in the top-level ``zoo/`` folder (name,
    architecture, task, input grid, labels, metrics, size), followed by a
    toctree of the model cards ``docs/zoo/*.md`` that exist. The page is
    re-read whenever a manifest (or the folder) changes.
``.. specnet-formats::``
    The registered spectrum layouts of :mod:`specnet.io` (name, kind,
    priority, what the reader reads, how the layout is identified), from the
    readers' and identifiers' own docstrings.
``.. specnet-mk-examples::``
    Each content line is an MK string; the row gives what
    :func:`specnet.labels.parse_mk` makes of it (or the ``LabelError``).
``.. specnet-manifest-fields::``
    The manifest's fields, from ``zoo/manifest.schema.json``.
``.. specnet-module-table::``
    A summary table of the package's public top-level modules.
``.. specnet-requirements::``
    Python version, dependencies and extras, read from ``setup.cfg``.
``.. specnet-scripts:: FOLDER``
    The Python scripts (and sub-folders with a README) under ``FOLDER`` of the
    repository, with the first line of each docstring/README.

Fixes so that the package's plain-text docstrings build warning-free under ``-W``:

* before napoleon, underlined headings that are no numpy-docstring section
  (``Several machines``, ``What is explained``) become rubrics (a section title
  cannot appear inside an object description), and ``|x|`` (an absolute value)
  and ``name_`` (sklearn's ``classes_``) are escaped outside literals;
* a cross-reference to a re-exported name (``specnet.io.read_spectrum``)
  resolves to the object where it is defined and documented
  (``specnet.io.registry.read_spectrum``);
* the ``set_*_request`` methods scikit-learn adds to every estimator are skipped;
* click's ``\\b`` example paragraphs become shell code blocks in the CLI reference.
"""
from __future__ import annotations

import ast
import importlib
import json
import math
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

REPO = Path(__file__).resolve().parents[2]
ZOO_DIR = REPO / "zoo"
CARDS_DIR = REPO / "docs" / "zoo"

_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+:.])\1{2,}\s*$")


# ------------------------------------------------------------------ rst helpers
def _cell(text) -> str:
    """One line of text for a list-table cell ('—' when empty)."""
    text = " ".join(str(text).split()) if text not in (None, "") else "—"
    return text


def _list_table(header: list[str], rows: list[list[str]], widths: list[int] | None = None,
                cls: str = "specnet-table") -> list[str]:
    out = [".. list-table::", "   :header-rows: 1", f"   :class: {cls}"]
    if widths:
        out.append("   :widths: " + " ".join(str(w) for w in widths))
    out.append("")
    for row in [header] + rows:
        first = True
        for value in row:
            out.append(("   * - " if first else "     - ") + _cell(value))
            first = False
    out.append("")
    return out


def _first_line(doc: str | None) -> str:
    doc = (doc or "").strip()
    if not doc:
        return ""
    para = doc.split("\n\n")[0]
    return " ".join(para.split())


class _RstDirective(SphinxDirective):
    """A directive that writes reStructuredText and parses it in place."""

    def rst_lines(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self):
        lines = self.rst_lines()
        node = nodes.container(classes=["specnet-generated"])
        self.state.nested_parse(StringList(lines, source=f"<{self.name}>"), self.content_offset, node)
        return node.children


# ------------------------------------------------------------------ zoo table
def _fmt_num(value, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.{digits}g}"


def _human_count(n) -> str:
    if not isinstance(n, (int, float)) or isinstance(n, bool):
        return str(n)
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)}"


def _human_bytes(n) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _grid_text(inp: dict) -> str:
    grid = inp.get("grid") or {}
    parts = []
    if inp.get("survey"):
        parts.append(f"``{inp['survey']}``")
    lo, hi = grid.get("wave_min"), grid.get("wave_max")
    if (lo is None or hi is None) and {"log_start", "log_step", "npix"} <= set(grid):
        lo = 10 ** grid["log_start"]
        hi = 10 ** (grid["log_start"] + grid["log_step"] * (grid["npix"] - 1))
    if lo is not None and hi is not None:
        parts.append(f"{lo:.0f}–{hi:.0f} Å")
    if grid.get("medium"):
        parts.append(str(grid["medium"]))
    if grid.get("npix"):
        parts.append(f"{grid['npix']} px")
    if inp.get("normalisation"):
        parts.append(f"norm. ``{inp['normalisation']}``")
    return ", ".join(parts)


def _labels_text(labels: dict) -> str:
    if not isinstance(labels, dict):
        return str(labels)
    classes = labels.get("classes")
    if classes:
        return ", ".join(map(str, classes))
    parts = []
    if labels.get("scale"):
        parts.append(f"subtype {labels['scale']}")
    lo, hi = labels.get("min"), labels.get("max")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        try:
            from specnet.labels import format_subtype

            parts.append(f"range {format_subtype(lo)}–{format_subtype(hi)}")
        except ValueError:
            pass
    return "; ".join(parts) or json.dumps(labels)


#: Metrics shown in the zoo table when a manifest has them (others are in ``specnet zoo info``).
HEADLINE_METRICS = ("n", "mae", "std", "within_1", "accuracy", "macro_f1", "f1_macro")


def _metrics_text(metrics) -> str:
    """``block: n 120, mae 0.91, within_1 0.83; ...`` from a manifest's ``metrics``."""
    if not metrics:
        return "not trained yet"
    if not isinstance(metrics, dict):
        return str(metrics)
    flat_values = all(not isinstance(v, dict) for v in metrics.values())
    groups = {"": metrics} if flat_values else {k: v for k, v in metrics.items() if isinstance(v, dict)}
    out = []
    for split, vals in groups.items():
        numeric = {k: v for k, v in vals.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        keys = [k for k in HEADLINE_METRICS if k in numeric] or list(numeric)[:3]
        if keys:
            out.append((f"{split}: " if split else "") + ", ".join(f"{k} {_fmt_num(numeric[k])}" for k in keys))
    return "; ".join(out) or "not trained yet"


def _size_text(m: dict, path: Path) -> str:
    parts = []
    params = next((m[k] for k in ("params", "n_params", "parameters") if isinstance(m.get(k), (int, float))), None)
    if params is not None:
        parts.append(f"{_human_count(params)} params")
    if isinstance(m.get("flops"), (int, float)):
        parts.append(f"{_human_count(m['flops'])} FLOPs")
    weights = m.get("weights")
    if isinstance(weights, dict):
        size = weights.get("size")
        wfile = path.parent / str(weights.get("file", ""))
        if not isinstance(size, (int, float)) and weights.get("file") and wfile.is_file():
            size = wfile.stat().st_size
        if isinstance(size, (int, float)):
            parts.append(f"weights {_human_bytes(size)}")
    else:
        parts.append("no weights yet")
    return ", ".join(parts)


def _is_manifest_file(path: Path) -> bool:
    return not path.name.endswith(".schema.json")


def zoo_rows(zoo_dir: Path = ZOO_DIR) -> list[dict]:
    """The table rows, one per ``zoo_dir/*.json`` manifest (schemas skipped), sorted by name."""
    rows = []
    for path in sorted(p for p in zoo_dir.glob("*.json") if _is_manifest_file(p)):
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a readable JSON manifest ({exc})") from None
        if not isinstance(m, dict):
            raise ValueError(f"{path}: a manifest must be a JSON object")
        task = m.get("task", "")
        n_classes = len((m.get("labels") or {}).get("classes") or [])
        metrics = _metrics_text(m.get("metrics"))
        status = (m.get("training") or {}).get("status") if isinstance(m.get("training"), dict) else None
        if metrics == "not trained yet" and status:
            metrics = str(status)
        rows.append({
            "name": m.get("name") or path.stem,
            "description": m.get("description", ""),
            "architecture": m.get("architecture", ""),
            "task": f"{task} ({n_classes} classes)" if n_classes else task,
            "input": _grid_text(m.get("input") or {}),
            "labels": _labels_text(m.get("labels") or {}),
            "metrics": metrics,
            "size": _size_text(m, path),
            "path": path,
        })
    return sorted(rows, key=lambda r: r["name"])


class ManifestFields(_RstDirective):
    """``.. specnet-manifest-fields::`` -- the manifest's top-level fields, from ``zoo/manifest.schema.json``."""

    def rst_lines(self) -> list[str]:
        path = ZOO_DIR / "manifest.schema.json"
        self.env.note_dependency(str(path))
        if not path.is_file():
            return ["*No manifest schema in* ``zoo/`` *yet.*", ""]
        schema = json.loads(path.read_text(encoding="utf-8"))
        required = set(schema.get("required", []))
        rows = []
        for key, prop in schema.get("properties", {}).items():
            kind = prop.get("type") or prop.get("enum") or [
                a.get("type") or a.get("const") for a in prop.get("anyOf", [])]
            if isinstance(kind, list):
                kind = " or ".join(str(k) for k in kind)
            sub = prop.get("properties") or {}
            desc = prop.get("description", "")
            if sub:
                desc = (desc + " " if desc else "") + "Keys: " + ", ".join(f"``{k}``" for k in sub) + "."
            rows.append([f"``{key}``", "yes" if key in required else "", str(kind), desc])
        return _list_table(["field", "required", "type", "meaning"], rows, widths=[14, 8, 12, 66])


class ZooTable(_RstDirective):
    """``.. specnet-zoo-table::`` -- the zoo, from the manifests (see the module doc)."""

    option_spec = {"cards": directives.unchanged}

    def rst_lines(self) -> list[str]:
        self.env.note_dependency(str(ZOO_DIR))
        self.env.note_dependency(str(CARDS_DIR))
        try:
            rows = zoo_rows()
        except ValueError as exc:
            raise self.error(str(exc)) from None
        for row in rows:
            self.env.note_dependency(str(row["path"]))
        cards = sorted(p.stem for p in CARDS_DIR.glob("*.md") if p.stem.lower() != "readme")
        if not rows:
            lines = ["*No manifest in* ``zoo/`` *yet.*", ""]
        else:
            lines = _list_table(
                ["name", "architecture", "task", "input grid", "labels", "metrics", "size"],
                [[f":doc:`{r['name']} <{r['name']}>`" if r["name"] in cards else f"``{r['name']}``",
                  f"``{r['architecture']}``", r["task"], r["input"], r["labels"], r["metrics"], r["size"]]
                 for r in rows],
                widths=[14, 12, 12, 22, 14, 16, 10])
            described = [r for r in rows if r["description"]]
            if described:
                lines += [f"* ``{r['name']}`` -- {_cell(r['description'])}" for r in described] + [""]
        if cards:
            lines += [".. toctree::", "   :maxdepth: 1", "   :caption: Model cards", ""]
            lines += [f"   {stem}" for stem in cards] + [""]
        return lines


# ------------------------------------------------------------------ formats table
class FormatsTable(_RstDirective):
    """``.. specnet-formats::`` -- the registered layouts of :mod:`specnet.io`."""

    def rst_lines(self) -> list[str]:
        from specnet.io import formats, get_format

        rows = []
        for name in formats():
            fmt = get_format(name)
            module = getattr(fmt.read, "__module__", "")
            reader = f":func:`{module}.{fmt.read.__name__}`" if module.startswith("specnet.") else ""
            rows.append([f"``{name}``", fmt.kind, str(fmt.priority),
                         f"{fmt.description or _first_line(fmt.read.__doc__)} ({reader})" if reader
                         else fmt.description, _first_line(getattr(fmt.identify, "__doc__", ""))])
        return _list_table(["layout", "kind", "priority", "what (reader)", "identified by"], rows,
                           widths=[12, 6, 7, 40, 35])


# ------------------------------------------------------------------ MK examples
class MKExamples(_RstDirective):
    """``.. specnet-mk-examples::`` -- one MK string per content line, parsed now."""

    has_content = True

    def rst_lines(self) -> list[str]:
        from specnet.errors import LabelError
        from specnet.labels import format_subtype, parse_mk

        rows = []
        for text in self.content:
            text = text.strip()
            if not text:
                continue
            try:
                t = parse_mk(text)
            except LabelError:
                rows.append([f"``{text}``", "LabelError", "", "", "", ""])
                continue
            decimals = 0 if float(t.subtype).is_integer() else 1
            rng = (f"{format_subtype(t.subtype_range[0], 1 if t.subtype_range[0] % 1 else 0)}–"
                   f"{format_subtype(t.subtype_range[1], 1 if t.subtype_range[1] % 1 else 0)}"
                   if t.subtype_range else "")
            notes = ", ".join(x for x in (
                f"range {rng}" if rng else "",
                f"prefix ``{t.prefix}``" if t.prefix else "",
                f"metallicity ``{t.metallicity}``" if t.metallicity else "",
                f"peculiarities ``{t.peculiarities}``" if t.peculiarities else "") if x)
            rows.append([f"``{text}``", f"{t.subtype:g}", format_subtype(t.subtype, decimals),
                         t.lum_class or "", "yes" if t.uncertain else "", notes])
        return _list_table(["text", "subtype", "class", "lum. class", "uncertain", "notes"], rows,
                           widths=[18, 9, 9, 10, 10, 44])


# ------------------------------------------------------------------ scripts
def _script_summary(path: Path) -> str:
    if path.is_dir():
        for name in ("README.md", "README.rst", "README.txt", "README"):
            readme = path / name
            if readme.is_file():
                lines = [ln.strip() for ln in readme.read_text(errors="replace").splitlines()]
                text = [ln for ln in lines if ln and not ln.startswith(("#", "=", "-"))]
                return text[0] if text else ""
        return ""
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(errors="replace")))
    except SyntaxError:
        doc = None
    return _first_line(doc)


class ScriptsTable(_RstDirective):
    """``.. specnet-manifest-fields::``
    The manifest's fields, from ``zoo/manifest.schema.json``.
``.. specnet-module-table::``
    A summary table of the package's public top-level modules.
``.. specnet-requirements::``
    Python version, dependencies and extras, read from ``setup.cfg``.
``.. specnet-scripts:: FOLDER`` -- scripts/sub-folders of a repository folder."""

    required_arguments = 1
    option_spec = {"empty": directives.unchanged}

    def rst_lines(self) -> list[str]:
        folder = REPO / self.arguments[0]
        self.env.note_dependency(str(folder))
        entries = []
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if p.name.startswith((".", "_")):
                    continue
                if p.suffix == ".py" or (p.is_dir() and any(p.iterdir())):
                    self.env.note_dependency(str(p))
                    entries.append(p)
        if not entries:
            return [self.options.get("empty") or f"*Nothing in* ``{self.arguments[0]}/`` *yet.*", ""]
        rows = [[f"``{self.arguments[0]}/{p.name}{'/' if p.is_dir() else ''}``", _script_summary(p)]
                for p in entries]
        return _list_table(["file", "what it does"], rows, widths=[30, 70])


# ------------------------------------------------------------------ module table
#: Top-level modules in the order data flows through them (others follow, sorted).
MODULE_ORDER = ("spectrum", "errors", "io", "labels", "preprocess", "simulate", "demo", "data", "models",
                "zoo", "train", "predict", "explain", "metrics", "baselines", "report", "plots", "cli")


def public_modules(package: str = "specnet") -> list[str]:
    """The public top-level modules of ``package`` in :data:`MODULE_ORDER`."""
    import pkgutil

    pkg = importlib.import_module(package)
    names = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    rank = {name: i for i, name in enumerate(MODULE_ORDER)}
    return [f"{package}.{n}" for n in sorted(names, key=lambda n: (rank.get(n, len(rank)), n))]


class ModuleTable(_RstDirective):
    """``.. specnet-manifest-fields::``
    The manifest's fields, from ``zoo/manifest.schema.json``.
``.. specnet-module-table::`` -- a summary table of every public top-level module."""

    def rst_lines(self) -> list[str]:
        return [".. autosummary::", ""] + [f"   {name}" for name in public_modules()] + [""]


# ------------------------------------------------------------------ requirements
def _requirements(value: str) -> list[str]:
    return [ln.strip() for ln in value.splitlines() if ln.strip() and not ln.strip().startswith("#")]


class Requirements(_RstDirective):
    """``.. specnet-manifest-fields::``
    The manifest's fields, from ``zoo/manifest.schema.json``.
``.. specnet-module-table::``
    A summary table of the package's public top-level modules.
``.. specnet-requirements::`` -- dependencies and extras, read from ``setup.cfg``."""

    def rst_lines(self) -> list[str]:
        import configparser

        path = REPO / "setup.cfg"
        self.env.note_dependency(str(path))
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read(path)
        opts = cfg["options"]
        rows = [["(none)", "``pip install specnet-stars``",
                 ", ".join(f"``{r}``" for r in _requirements(opts.get("install_requires", "")))]]
        extras = cfg["options.extras_require"] if cfg.has_section("options.extras_require") else {}
        for name in extras:
            rows.append([f"``{name}``", f"``pip install \"specnet-stars[{name}]\"``",
                         ", ".join(f"``{r}``" for r in _requirements(extras[name]))])
        lines = [f"Python ``{opts.get('python_requires', '')}``.", ""]
        return lines + _list_table(["extra", "install", "adds"], rows, widths=[10, 35, 55])


# ------------------------------------------------------------------ docstring headings
_KNOWN_SECTIONS: set[str] | None = None


def _napoleon_sections(app) -> set[str]:
    from sphinx.ext.napoleon import Config
    from sphinx.ext.napoleon.docstring import NumpyDocstring

    cfg = Config(napoleon_custom_sections=app.config.napoleon_custom_sections)
    return set(NumpyDocstring("", cfg)._sections)


def _unknown_headings_to_rubrics(lines: list[str], known: set[str]) -> list[str]:
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        title = line.strip()
        if (title and _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(title)
                and not _UNDERLINE.match(line) and title.lower() not in known
                and len(line) - len(line.lstrip()) == len(nxt) - len(nxt.lstrip())):
            indent = line[: len(line) - len(line.lstrip())]
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}.. rubric:: {title}", ""]
            i += 2
            if i < len(lines) and not lines[i].strip():
                i += 1
            continue
        out.append(line)
        i += 1
    return out


# Inline literals, roles and interpreted text: left exactly as written.
_INLINE_CODE = re.compile(r"(``.+?``|:[\w:.-]+:`[^`]*`|`[^`]+`_{0,2})")
# |e| meaning an absolute value (rST would read a substitution reference)
_BARS = re.compile(r"(?<![\\\w|`])\|(?=[^\s|])([^|`]*?[^\s|\\])\|(?![\w|])")
# classes_ / n_iter_ (sklearn's fitted attributes; rST would read a hyperlink reference)
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\`])([A-Za-z]\w*?)_(?![\w`])")
_LITERAL_DIRECTIVE = re.compile(r"^\s*\.\. (code-block|code|sourcecode|math|doctest|testcode|testoutput|"
                                r"literalinclude|highlight)::")


def _escape_plain_text_markup(lines: list[str]) -> list[str]:
    """Escape ``|x|`` and ``name_`` outside literals, roles, literal blocks and doctests."""
    out, literal_indent = [], None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if stripped.startswith((">>>", "... ")) or stripped == "...":
            out.append(line)
            continue
        if stripped.endswith("::") or _LITERAL_DIRECTIVE.match(line):
            literal_indent = indent
        parts = _INLINE_CODE.split(line)
        for k in range(0, len(parts), 2):           # even parts: plain text
            text = _BARS.sub(r"\\|\1\\|", parts[k])
            parts[k] = _TRAILING_UNDERSCORE.sub(r"\1\\_", text)
        out.append("".join(parts))
    return out


def headings_to_rubrics(app, what, name, obj, options, lines: list[str]) -> None:
    """``autodoc-process-docstring`` (before napoleon): make plain-text docstrings valid rST.

    * underlined headings that napoleon does not know become ``.. rubric::``;
    * ``|x|`` (an absolute value) and ``name_`` (sklearn's ``classes_``) are
      escaped, outside inline literals, roles, literal blocks and doctests --
      specnet's docstrings use neither substitutions nor bare hyperlink targets.
    """
    global _KNOWN_SECTIONS
    if _KNOWN_SECTIONS is None:
        _KNOWN_SECTIONS = _napoleon_sections(app)
    lines[:] = _escape_plain_text_markup(_unknown_headings_to_rubrics(lines, _KNOWN_SECTIONS))


# ------------------------------------------------------------------ re-exported names
def _canonical(target: str) -> list[str]:
    """Where the object named ``target`` is defined: ``module.qualname`` candidates."""
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        modname = ".".join(parts[:i])
        try:
            obj = importlib.import_module(modname)
        except Exception:  # noqa: BLE001 - any import problem: not ours to resolve
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return []
        mod = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        names = []
        if isinstance(obj, type(importlib)):
            names.append(obj.__name__)
        if mod and qual and isinstance(mod, str):
            names.append(f"{mod}.{qual}")
        return [n for n in names if n != target]
    return []


def resolve_reexports(app, env, node, contnode):
    """``missing-reference``: point ``specnet.io.read_spectrum`` at ``specnet.io.registry.read_spectrum``."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target.startswith("specnet"):
        modname = node.get("py:module") or ""
        if not modname.startswith("specnet"):
            return None
        target = f"{modname}.{target}"
    domain = env.get_domain("py")
    for name in _canonical(target.lstrip("~")):
        if name in domain.objects:
            new = node.deepcopy()
            new["reftarget"] = name
            new["refspecific"] = False
            new["py:module"] = None
            new["py:class"] = None
            return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, new, contnode)
    return None


# ------------------------------------------------------------------ sklearn / click details
def skip_inherited_machinery(app, what, name, obj, skip, options):
    """Skip the ``set_*_request`` methods sklearn's metadata routing adds to every estimator."""
    qual = getattr(obj, "__qualname__", "") or ""
    if re.fullmatch(r"set_\w+_request", name) and "RequestMethod" in qual:
        return True
    return None


def click_examples_as_code(app, ctx, lines: list[str]) -> None:
    """``sphinx-click-process-description``: ``\\b`` example blocks become shell code blocks.

    click's ``\\b`` marks a paragraph not to rewrap; sphinx-click renders it as a
    line block, where shell globs (``*.fits``) read as emphasis. A block whose
    first line ends with ``:`` (``Example:``) becomes that line plus a
    ``code-block:: shell`` of the rest; other blocks get their ``*`` escaped.
    """
    out, i = [], 0
    while i < len(lines):
        if not lines[i].startswith("| "):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].startswith("| "):
            j += 1
        block = [ln[2:] for ln in lines[i:j]]
        if len(block) > 1 and block[0].rstrip().endswith(":"):
            body = block[1:]
            indent = min(len(b) - len(b.lstrip()) for b in body if b.strip())
            out += [block[0].strip(), "", ".. code-block:: shell", ""]
            out += ["   " + b[indent:] for b in body] + [""]
        else:
            out += ["| " + b.replace("*", "\\*") for b in block]
        i = j
    lines[:] = out


def setup(app):
    app.add_directive("specnet-zoo-table", ZooTable)
    app.add_directive("specnet-formats", FormatsTable)
    app.add_directive("specnet-mk-examples", MKExamples)
    app.add_directive("specnet-scripts", ScriptsTable)
    app.add_directive("specnet-requirements", Requirements)
    app.add_directive("specnet-module-table", ModuleTable)
    app.add_directive("specnet-manifest-fields", ManifestFields)
    app.connect("autodoc-process-docstring", headings_to_rubrics, priority=400)
    app.connect("missing-reference", resolve_reexports)
    app.connect("autodoc-skip-member", skip_inherited_machinery)
    app.connect("sphinx-click-process-description", click_examples_as_code)
    app.add_css_file("specnet.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
