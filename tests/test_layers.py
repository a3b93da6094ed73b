"""One house with layers: every module of aslkit imports only from its own layer and the layers below it.

Data flows one way, bottom to top (``LAYERS``):

0. shared helpers: errors, kinds (what a model reads, and its preprocessing: export and report ask too), names,
   labels, config, outputs (where and how results are written, ``atomic_write``), metrics and report (the scores
   and report files that training and evaluation both write);
1. ``data``: files and data sets as they lie on disk (photos, boxes, landmark arrays, clip arrays, layouts);
2. ``landmarks``: MediaPipe and what models read from its output (hand points and their features, hand crops,
   clips from videos), and the data sets built from it (``landmark_set``, ``image_set``, ``load_sequences``);
3. ``export``: the ONNX graph of a model and the onnxruntime backend that runs it. It sits below ``models``
   because a TrainedModel runs on that backend (``backend="onnx"``); export itself only reads the model
   object it is given and never imports ``models``;
4. ``models``: architectures, the registry and trained models on disk;
5. ``inference``: predicting with a trained model (recognizers, detector, streams, transcripts);
6. ``live`` and ``detect``: jobs that run a trained model over streams, videos and photos (``run_live``, its
   benchmark, drawing on frames, writing videos; the detector over files): they only predict, so they sit
   right above inference, below anything that trains;
7. ``training``: above inference, because a run scores its validation split through the same prediction
   path that ``predict`` uses, so the two can never disagree on preprocessing;
8. ``evaluation``: above training and inference: it predicts (``evaluate``), and some of it trains (``compare``
   trains the models it compares, ``audit`` cross-validates a landmark model to find mislabels);
9. ``app``: what a person sees, UI only: the HTTP server and the web app;
10. front doors: ``cli`` (and ``cli_parser``, its argparse declarations), ``__main__`` and the package itself
    (``aslkit.Recognizer`` and friends, lazily).

Every import counts, wherever it is: at module level, inside a function (a lazy import is still a dependency,
only a later one), in a ``try``. Two kinds are exempt: ``from __future__`` (not a module) and imports under
``if TYPE_CHECKING:``, which never run, so they make no import cycle; they name a type, not a dependency.

A second rule: no module imports another module's ``_private`` name, or a ``_private`` module from outside its
own package (``models/_image_base.py`` is for the architectures beside it). A name that other modules need is
public.

``ALLOWED`` lists the upward imports still accepted, each with its reason; it may only shrink (at most
``MAX_ALLOWED``, and an entry that no longer matches an import fails the test, so it is removed).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import aslkit

LAYERS: tuple[tuple[str, ...], ...] = (  # bottom first; a package stands for all its modules
    (  # shared helpers
        "aslkit.errors",
        "aslkit.kinds",
        "aslkit.names",
        "aslkit.labels",
        "aslkit.config",
        "aslkit.outputs",
        "aslkit.metrics",
        "aslkit.report",
    ),
    ("aslkit.data",),
    ("aslkit.landmarks",),
    ("aslkit.export",),
    ("aslkit.models",),
    ("aslkit.inference",),
    ("aslkit.live", "aslkit.detect"),
    ("aslkit.training",),
    ("aslkit.evaluation",),
    ("aslkit.app",),
    ("aslkit.cli", "aslkit.cli_parser", "aslkit.__main__", "aslkit"),
)
RANK: dict[str, int] = {name: rank for rank, names in enumerate(LAYERS) for name in names}

# (importing module, imported module) -> why it is still allowed.
ALLOWED: dict[tuple[str, str], str] = {}
MAX_ALLOWED = 0  # the issue allowed 3; none are left, and the list may only shrink

PACKAGE_DIR = Path(aslkit.__file__).parent


def module_files(root: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name, for its __init__.py)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = module_files()
PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def layer_of(module: str) -> int | None:
    """The rank of ``module``: its own entry in ``LAYERS``, else its nearest package's. The bare ``aslkit``
    entry is the package's __init__ only, so a new top-level module must be placed by hand."""
    if module in RANK:
        return RANK[module]
    parts = module.split(".")
    for n in range(len(parts) - 1, 1, -1):
        rank = RANK.get(".".join(parts[:n]))
        if rank is not None:
            return rank
    return None


@dataclass(frozen=True)
class Import:
    """One name (or module) that ``module`` takes from another aslkit module, at ``line``."""

    module: str
    target: str  # the module imported from (the submodule itself for ``from pkg import submodule``)
    name: str | None  # the name taken from it; None for ``import target``
    line: int


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name a ``from ... import`` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(
    source: str, module: str, is_package: bool = False, modules: dict[str, Path] | None = None
) -> list[Import]:
    """Every aslkit import in ``source`` (the whole tree: lazy imports too), except ``from __future__`` and
    those under ``if TYPE_CHECKING:``. ``modules`` (the known module names) tells a submodule from a name."""
    modules = MODULES if modules is None else modules
    found: list[Import] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "aslkit" or alias.name.startswith("aslkit."):
                    found.append(Import(module, alias.name, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            src = _resolve(module, is_package, node)
            if src == "aslkit" or src.startswith("aslkit."):
                for alias in node.names:
                    sub = f"{src}.{alias.name}"
                    if sub in modules:
                        found.append(Import(module, sub, None, node.lineno))
                    else:
                        found.append(Import(module, src, alias.name, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def upward(imports: list[Import]) -> list[Import]:
    """The imports that reach a higher layer than their module's (unknown modules have no layer: see
    ``test_every_module_has_a_layer``)."""
    out = []
    for imp in imports:
        low, high = layer_of(imp.module), layer_of(imp.target)
        if low is not None and high is not None and high > low:
            out.append(imp)
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_reaches(
    source: str, module: str, is_package: bool = False, modules: dict[str, Path] | None = None
) -> list[str]:
    """Where ``module`` takes another module's ``_private`` name (by import or as ``alias._name`` of an
    imported module), or a ``_private`` module from outside that module's package."""
    own_package = module if is_package else module.rpartition(".")[0]
    problems: list[tuple[int, int, str]] = []
    for imp in imports_of(source, module, is_package, modules):
        if imp.target == module:
            continue
        parts = imp.target.split(".")
        hidden = next((i for i, p in enumerate(parts) if _private(p)), None)
        if hidden is not None and not (own_package + ".").startswith(".".join(parts[:hidden]) + "."):
            problems.append((imp.line, 0, f"{module}:{imp.line} imports the private module {imp.target}"))
        if imp.name is not None and _private(imp.name):
            problems.append((imp.line, 0, f"{module}:{imp.line} imports {imp.target}.{imp.name}"))
    tree = ast.parse(source)
    aliases = _module_aliases(tree, MODULES if modules is None else modules)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
            target = aliases.get(node.value.id)
            if target is not None and target != module:
                problems.append((node.lineno, node.col_offset, f"{module}:{node.lineno} reaches {target}.{node.attr}"))
    return [text for _, _, text in sorted(problems)]


def _module_aliases(tree: ast.AST, modules: dict[str, Path]) -> dict[str, str]:
    """Local names bound to aslkit modules by ``import aslkit.x as y`` or ``from aslkit.pkg import module``."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aslkit.") and alias.asname:
                    out[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in modules:
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def all_imports() -> list[Import]:
    out = []
    for name, path in MODULES.items():
        out += imports_of(path.read_text(encoding="utf-8"), name, name in PACKAGES)
    return out


# ---- the checker itself, on made-up modules: it must be able to fail ------------------------------------------


def test_checker_finds_an_upward_import_at_module_level_and_inside_a_function() -> None:
    src = (
        "from aslkit.errors import AslkitError\n"  # down: fine
        "from aslkit.training.trainer import train\n"  # up
        "def f():\n"
        "    import aslkit.live.run\n"  # up, lazily
        "    from aslkit.models.io import load_model\n"  # up, lazily
        "    return load_model\n"
    )
    found = upward(imports_of(src, "aslkit.data.planted"))
    assert [(i.target, i.line) for i in found] == [
        ("aslkit.training.trainer", 2),
        ("aslkit.live.run", 4),
        ("aslkit.models.io", 5),
    ]


def test_checker_resolves_submodules_relative_imports_and_exempts_type_checking() -> None:
    src = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from aslkit.models.io import TrainedModel\n"  # exempt: never runs
        "else:\n"
        "    from aslkit.evaluation import evaluate\n"  # runs: the submodule evaluation.evaluate
        "from ..inference import recognizer\n"  # relative, from aslkit.data.planted: aslkit.inference.recognizer
        "from . import images\n"  # same layer
    )
    found = upward(imports_of(src, "aslkit.data.planted"))
    assert [i.target for i in found] == ["aslkit.evaluation.evaluate", "aslkit.inference.recognizer"]


def test_checker_places_modules_in_layers() -> None:
    assert layer_of("aslkit") == layer_of("aslkit.cli") > layer_of("aslkit.live.run") > layer_of("aslkit.data")
    assert layer_of("aslkit.data.boxes") == layer_of("aslkit.data") > layer_of("aslkit.outputs")
    assert layer_of("aslkit.newthing") is None  # a new top-level module is placed by hand, not taken as "aslkit"


def test_checker_finds_private_names() -> None:
    src = (
        "from aslkit.config import _section, load_defaults\n"
        "from aslkit.models._image_base import ImageClassifier\n"
        "from aslkit.landmarks import extractor\n"
        "import aslkit.live.run as live\n"
        "def f():\n"
        "    return extractor._quiet_stderr(), live._writer, extractor.Hand, __name__\n"
    )
    assert private_reaches(src, "aslkit.inference.planted") == [
        "aslkit.inference.planted:1 imports aslkit.config._section",
        "aslkit.inference.planted:2 imports the private module aslkit.models._image_base",
        "aslkit.inference.planted:6 reaches aslkit.landmarks.extractor._quiet_stderr",
        "aslkit.inference.planted:6 reaches aslkit.live.run._writer",
    ]
    # a private module is for its own package
    assert private_reaches("from aslkit.models._image_base import ImageClassifier\n", "aslkit.models.planted") == []


# ---- the package -----------------------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 50, PACKAGE_DIR  # the real package, not an empty folder
    missing = sorted(m for m in MODULES if layer_of(m) is None)
    assert not missing, f"place these modules in LAYERS (tests/test_layers.py): {missing}"


def test_no_import_runs_up_the_layers() -> None:
    bad = [i for i in upward(all_imports()) if (i.module, i.target) not in ALLOWED]
    lines = sorted(
        {f"{i.module}:{i.line} imports {i.target} (layer {layer_of(i.target)} above {layer_of(i.module)})" for i in bad}
    )
    assert not lines, "imports that run up the layers:\n" + "\n".join(lines)


def test_allowed_exceptions_are_few_and_still_needed() -> None:
    assert len(ALLOWED) <= MAX_ALLOWED
    seen = {(i.module, i.target) for i in upward(all_imports())}
    stale = sorted(set(ALLOWED) - seen)
    assert not stale, f"no longer needed: remove from ALLOWED: {stale}"
    assert all(reason.strip() for reason in ALLOWED.values())


def test_no_module_reaches_another_modules_private_names() -> None:
    problems = []
    for name, path in MODULES.items():
        problems += private_reaches(path.read_text(encoding="utf-8"), name, name in PACKAGES)
    assert not problems, "make these names public (or keep them in their module):\n" + "\n".join(problems)


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """Modules that import each other, directly or round a loop (within a layer too: ``app.web`` and
    ``app.server`` once did), each cycle once, from its smallest name."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.target != imp.module:
            graph.setdefault(imp.module, set()).add(imp.target)
    found: set[tuple[str, ...]] = set()

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt in path:
                loop = path[path.index(nxt) :]
                first = loop.index(min(loop))
                found.add(tuple(loop[first:] + loop[:first]))
            else:
                walk([*path, nxt])

    for start in sorted(graph):
        walk([start])
    return [list(c) for c in sorted(found)]


def test_checker_finds_import_cycles() -> None:
    web = imports_of("def f():\n    from aslkit.app.server import run_names\n", "aslkit.app.web")
    server = imports_of("def g():\n    from aslkit.app.web import build_ui\n", "aslkit.app.server")
    assert import_cycles(web + server) == [["aslkit.app.server", "aslkit.app.web"]]


def test_no_modules_import_each_other() -> None:
    assert import_cycles(all_imports()) == []
