"""No function in src/aslkit is over 80 lines (issue 18): long ones are split into named steps.

Length is ``end_lineno - lineno + 1`` of every def and async def, methods and nested functions included
(a decorator's lines are not counted). The exceptions below are the functions still over the limit, with
their length today: the list may only shrink, so an exception that grows fails, and one that is fixed
(or gone) must be taken off the list.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

MAX_LINES = 80
SRC = Path(__file__).resolve().parents[1] / "src" / "aslkit"

# qualified name (dotted module path under src/aslkit, then the function's own dotted name) -> its length today.
EXCEPTIONS: dict[str, int] = {}  # none left; an entry may only be removed, never added


def long_functions(source: str, module: str = "<string>", limit: int = MAX_LINES) -> dict[str, int]:
    """``module:qualname`` -> length of every function in ``source`` longer than ``limit`` lines."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                length = child.end_lineno - child.lineno + 1
                if length > limit:
                    found[f"{module}:{name}"] = length
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def package_long_functions() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found.update(long_functions(path.read_text(encoding="utf-8"), module))
    return found


def _function(name: str, body_lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(body_lines))
    return f"{indent}def {name}():\n{body}"


def test_checker_measures_functions_of_every_kind() -> None:
    source = "\n".join(
        [
            _function("fits", MAX_LINES - 1),  # def line + 79 = 80 lines: allowed
            _function("too_long", MAX_LINES),  # 81 lines
            "class Box:\n" + _function("method", MAX_LINES + 4, indent="    "),
            "async " + _function("coro", MAX_LINES + 1),
            "def outer():\n" + _function("inner", MAX_LINES + 2, indent="    ") + "    return inner\n",
            "if True:\n" + _function("guarded", MAX_LINES + 5, indent="    "),
        ]
    )
    assert long_functions(source, "m") == {
        "m:too_long": 81,
        "m:Box.method": 85,
        "m:coro": 82,
        "m:outer": 85,
        "m:outer.inner": 83,
        "m:guarded": 86,
    }
    assert long_functions(textwrap.dedent(_function("short", 3))) == {}


def test_no_function_in_src_is_over_80_lines() -> None:
    found = package_long_functions()
    new = {k: n for k, n in found.items() if k not in EXCEPTIONS}
    assert not new, f"functions over {MAX_LINES} lines (split them into named steps): {new}"
    grown = {k: (EXCEPTIONS[k], n) for k, n in found.items() if k in EXCEPTIONS and n > EXCEPTIONS[k]}
    assert not grown, f"exceptions that grew (listed, now): {grown}; the list may only shrink"


def test_exceptions_are_still_needed() -> None:
    """A function split (or moved) below the limit leaves the list: take it off, with its old length."""
    found = package_long_functions()
    stale = [name for name in sorted(EXCEPTIONS) if name not in found]
    assert not stale, f"{stale} no longer over {MAX_LINES} lines (or moved): remove them from EXCEPTIONS"
