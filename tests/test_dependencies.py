"""Every third-party import in src/ comes from a distribution pyproject.toml declares, pinned (issue 20).

A package that only arrives through another (fastapi, starlette and uvicorn through gradio) can vanish with that
package's next release, so it is declared and pinned itself. How imports are read:

* every ``import x`` and ``from x import y`` anywhere in src/aslkit: at module level, inside functions (a lazy
  import is a dependency too, only a later one), under ``if TYPE_CHECKING:``, and
  ``importlib.import_module("x")`` with a literal name;
* the top-level module is mapped to its distribution with ``importlib.metadata.packages_distributions()``
  (``cv2`` -> opencv-contrib-python, ``yaml`` -> PyYAML); the standard library and aslkit itself are skipped;
* an import inside a ``try:`` whose handler catches ImportError is optional (``ray`` for ``--engine ray``): its
  distribution may be declared in an optional extra instead of the dependencies. So is every other import of that
  module in the same file, which checks for it that way first (``require_pose_format()``, then
  ``from pose_format import Pose``);
* every declaration is an exact ``==`` pin, and the installed version is that pin (a local label such as
  torch's ``+cpu`` aside), so pyproject.toml says what the tests ran with; ``pip check`` finds nothing broken.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "aslkit"
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*(;.*)?$")


def canonical(name: str) -> str:
    """PEP 503 name: PyYAML, pyyaml and py_yaml are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Use:
    """One import: the top-level module, where it is (file:line), and whether an ImportError around it is handled."""

    module: str
    where: str
    optional: bool

    @property
    def file(self) -> str:
        return self.where.rsplit(":", 1)[0]


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(t, ast.Name) and t.id in names for t in types)


def imports_in(source: str, where: str = "<string>") -> list[Use]:
    """Every absolute import of ``source`` (see the module docstring), with whether it is guarded."""
    found: list[Use] = []

    def add(name: str, node: ast.AST, optional: bool) -> None:
        found.append(Use(name.split(".")[0], f"{where}:{node.lineno}", optional))

    def visit(node: ast.AST, optional: bool) -> None:
        if isinstance(node, ast.Try):
            guarded = optional or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, guarded)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child, optional)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node, optional)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            add(node.module, node, optional)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            add(node.args[0].value, node, optional)
        for child in ast.iter_child_nodes(node):
            visit(child, optional)

    visit(ast.parse(source), False)
    return found


def src_imports() -> list[Use]:
    out: list[Use] = []
    for path in sorted(SRC.rglob("*.py")):
        out += imports_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return out


def third_party(uses: list[Use]) -> list[Use]:
    return [u for u in uses if u.module not in sys.stdlib_module_names and u.module != "aslkit"]


def declared(pyproject: dict) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """({name: pin} of the dependencies, {extra: {name: pin}}); a declaration that is not ``name==version`` fails."""

    def pins(reqs: list[str], where: str) -> dict[str, str]:
        out = {}
        for req in reqs:
            m = PIN.match(req)
            assert m, f"{where}: {req!r} is not pinned exactly (name==version)"
            out[canonical(m.group(1))] = m.group(3)
        return out

    project = pyproject["project"]
    extras = {k: pins(v, f"[{k}]") for k, v in project.get("optional-dependencies", {}).items()}
    return pins(project.get("dependencies", []), "dependencies"), extras


def undeclared(uses: list[Use], deps: set[str], extra_deps: set[str], dists: dict[str, list[str]]) -> list[str]:
    """One line per third-party import whose distribution is not declared where its kind of import needs it."""
    problems = []
    checked = {(u.file, u.module) for u in uses if u.optional}  # a file that checks for a module may import it
    for u in third_party(uses):
        names = {canonical(d) for d in dists.get(u.module, [])}
        optional = u.optional or (u.file, u.module) in checked
        allowed = deps | extra_deps if optional else deps
        if not names:
            if optional and canonical(u.module) in allowed:  # an optional extra that is not installed here
                continue
            problems.append(f"{u.where}: {u.module} is not installed here, so its distribution is unknown")
        elif not names & allowed:
            kind = "an optional extra or the dependencies" if optional else "[project] dependencies"
            problems.append(f"{u.where}: import {u.module} (distribution {'/'.join(sorted(names))}) is not in {kind}")
    return problems


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# ---- the checker itself --------------------------------------------------------------------------------------------
def test_reader_finds_lazy_guarded_and_dynamic_imports() -> None:
    source = (
        "import os, numpy.linalg\n"
        "from yaml import safe_load\n"
        "from . import sibling\n"
        "def f():\n"
        "    import fastapi\n"
        "    try:\n"
        "        import ray\n"
        "    except ImportError:\n"
        "        import json\n"
        "    try:\n"
        "        import h11\n"
        "    except ValueError:\n"
        "        pass\n"
        "    importlib.import_module('uvicorn.main')\n"
    )
    got = [(u.module, u.optional) for u in imports_in(source)]
    assert got == [
        ("os", False),
        ("numpy", False),
        ("yaml", False),
        ("fastapi", False),
        ("ray", True),
        ("json", False),
        ("h11", False),
        ("uvicorn", False),
    ]


def test_checker_fails_an_import_that_only_arrives_through_another_package() -> None:
    """The state before issue 20: fastapi imported by app/server.py, installed (through gradio), not declared."""
    uses = imports_in("def serve():\n    import fastapi\n", "app/server.py")
    dists = packages_distributions()
    assert dists.get("fastapi"), "fastapi is installed (gradio needs it)"
    problems = undeclared(uses, {"gradio"}, set(), dists)
    assert problems == ["app/server.py:2: import fastapi (distribution fastapi) is not in [project] dependencies"]
    assert undeclared(uses, {"gradio", "fastapi"}, set(), dists) == []


def test_checker_takes_an_optional_import_from_an_extra_only_when_guarded() -> None:
    guarded = imports_in("try:\n    import ray\nexcept ImportError:\n    ray = None\n", "m.py")
    plain = imports_in("import ray\n", "m.py")
    dists = {"ray": ["ray"]}
    assert undeclared(guarded, set(), {"ray"}, dists) == []
    assert undeclared(plain, set(), {"ray"}, dists) == [
        "m.py:1: import ray (distribution ray) is not in [project] dependencies"
    ]
    assert undeclared(guarded, set(), {"ray"}, {}) == [], "an extra need not be installed"
    assert undeclared(plain, set(), set(), {})[0].endswith("ray is not installed here, so its distribution is unknown")


def test_a_file_that_checks_for_a_module_may_import_it_later() -> None:
    """The pattern of an optional extra: check once (try/except ImportError), then import where it is used."""
    source = "def available():\n    try:\n        import av\n    except ImportError:\n        return False\n" + (
        "def write():\n    import av\n"
    )
    assert undeclared(imports_in(source, "video.py"), set(), {"av"}, {"av": ["av"]}) == []
    elsewhere = imports_in("def write():\n    import av\n", "other.py")
    assert undeclared(imports_in(source, "video.py") + elsewhere, set(), {"av"}, {"av": ["av"]}) == [
        "other.py:2: import av (distribution av) is not in [project] dependencies"
    ]


def test_pins_must_be_exact() -> None:
    with pytest.raises(AssertionError, match="not pinned exactly"):
        declared({"project": {"dependencies": ["fastapi>=0.100"]}})
    deps, extras = declared(
        {"project": {"dependencies": ["PyYAML==6.0.3  "], "optional-dependencies": {"ray": ["ray[data]==2.60.0"]}}}
    )
    assert deps == {"pyyaml": "6.0.3"} and extras == {"ray": {"ray": "2.60.0"}}


# ---- the project ---------------------------------------------------------------------------------------------------
def test_every_import_in_src_is_declared() -> None:
    deps, extras = declared(_pyproject())
    uses = src_imports()
    assert {"fastapi", "starlette", "uvicorn"} <= {u.module for u in uses}, "app/server.py is read"
    problems = undeclared(uses, set(deps), {n for e in extras.values() for n in e}, packages_distributions())
    assert not problems, (
        "imports from undeclared distributions (declare and pin them in pyproject.toml):\n" + "\n".join(problems)
    )


def test_server_stack_is_declared_itself() -> None:
    """Not only through gradio: the web server's own packages are pinned."""
    deps, _ = declared(_pyproject())
    assert {"fastapi", "starlette", "uvicorn", "h11", "gradio"} <= set(deps)


def test_pins_are_what_is_installed() -> None:
    deps, extras = declared(_pyproject())
    wrong = []
    for name, pin in deps.items():
        try:
            have = version(name)
        except PackageNotFoundError:
            wrong.append(f"{name}=={pin} is declared but not installed")
            continue
        if have.split("+")[0] != pin:
            wrong.append(f"{name}: pinned {pin}, installed {have}")
    for extra, reqs in extras.items():
        for name, pin in reqs.items():
            try:
                have = version(name)
            except PackageNotFoundError:
                continue  # an extra may be left out of an install
            if have.split("+")[0] != pin:
                wrong.append(f"[{extra}] {name}: pinned {pin}, installed {have}")
    assert not wrong, wrong


def test_pip_check_is_clean() -> None:
    p = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    if "No module named pip" in p.stderr:
        pytest.skip("no pip in this environment")
    assert p.returncode == 0, p.stdout + p.stderr
