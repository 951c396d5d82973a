"""Every test in the suite checks something: a lint over tests/**/*.py (AST, no run).

A test *checks* when its body, or a helper it uses, holds one of:

- an ``assert`` statement, or ``raise AssertionError(...)``;
- ``pytest.raises`` / ``pytest.warns`` / ``pytest.deprecated_call`` (as ``with`` or as a
  call), or ``pytest.fail``;
- Playwright's ``expect(...)``;
- a library assertion: a call whose name starts with ``assert`` and is not defined in tests/
  (``pd.testing.assert_frame_equal``, ``np.testing.assert_allclose``, ``self.assertEqual``).

"A helper it uses" is a function defined in tests/ that the test calls or passes on (a name
it refers to): one in the same module, or imported from another module of tests/
(``from hostile import assert_inert``, ``from .conftest import wait_for_map``), followed
through any number of helpers. Functions nested in the test count as its body. Fixtures do
not count: a test states its own check.

Why a lint and not a run-time hook: pytest's assertion-pass hook sees only rewritten
``assert`` statements, not ``pytest.raises`` nor Playwright's ``expect``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Calls that check, by their dotted name as written.
CHECKING_CALLS = {
    "pytest.raises",
    "pytest.warns",
    "pytest.deprecated_call",
    "pytest.fail",
    "raises",
    "warns",
    "deprecated_call",
    "fail",
    "expect",
}

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_test_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.startswith("test_") or name.endswith("_test.py")


@dataclass
class _Module:
    rel: str  # path relative to tests/, with "/"
    tree: ast.Module
    functions: dict[str, Function] = field(default_factory=dict)  # module level
    classes: dict[str, dict[str, Function]] = field(default_factory=dict)
    # local name -> (module rel path, name there) for imports from other tests/ modules
    imported_functions: dict[str, tuple[str, str]] = field(default_factory=dict)
    imported_modules: dict[str, str] = field(default_factory=dict)  # local name -> rel path


class Suite:
    """The test modules of a tests/ tree, given as {path relative to tests/: source}."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.modules: dict[str, _Module] = {}
        for rel, source in sources.items():
            tree = ast.parse(source, filename=rel)
            mod = _Module(rel, tree)
            for node in tree.body:
                if isinstance(node, Function):
                    mod.functions[node.name] = node
                elif isinstance(node, ast.ClassDef):
                    mod.classes[node.name] = {
                        n.name: n for n in node.body if isinstance(n, Function)
                    }
            self.modules[rel] = mod
        for mod in self.modules.values():
            self._resolve_imports(mod)
        self._memo: dict[tuple[str, int], bool] = {}

    @classmethod
    def from_disk(cls, root: Path = TESTS) -> Suite:
        return cls(
            {
                p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
                for p in sorted(root.rglob("*.py"))
                if "__pycache__" not in p.parts
            }
        )

    # ------------------------------------------------------------------ name resolution

    def _module_path(self, mod: _Module, name: str | None, level: int) -> str | None:
        """The tests/ module that `from <dots><name> import` names, if it is one."""
        parts = name.split(".") if name else []
        if level:
            base = mod.rel.split("/")[:-1]
            base = base[: len(base) - (level - 1)] if level > 1 else base
            candidates = ["/".join([*base, *parts])]
        else:
            if parts[:1] == ["tests"]:
                parts = parts[1:]
            # tests/ is on sys.path (rootdir import mode); a module may sit beside the test.
            beside = mod.rel.split("/")[:-1]
            candidates = ["/".join(parts), "/".join([*beside, *parts])]
        for c in candidates:
            for rel in (f"{c}.py", f"{c}/__init__.py"):
                if c and rel in self.modules:
                    return rel
        return None

    def _resolve_imports(self, mod: _Module) -> None:
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom):
                source = self._module_path(mod, node.module, node.level)
                for alias in node.names:
                    local = alias.asname or alias.name
                    if source is not None:
                        mod.imported_functions[local] = (source, alias.name)
                    else:  # `from . import hostile` / `from tests import hostile`
                        sub = ".".join(filter(None, [node.module, alias.name]))
                        target = self._module_path(mod, sub, node.level)
                        if target is not None:
                            mod.imported_modules[local] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    target = self._module_path(mod, alias.name, 0)
                    if target is not None:
                        mod.imported_modules[alias.asname or alias.name] = target

    def _lookup(self, rel: str, name: str, seen: frozenset = frozenset()) -> Function | None:
        """The function `name` means in module `rel` (following re-exports), if in tests/."""
        mod = self.modules[rel]
        if name in mod.functions:
            return mod.functions[name]
        if name in mod.imported_functions and (rel, name) not in seen:
            src, real = mod.imported_functions[name]
            return self._lookup(src, real, seen | {(rel, name)})
        return None

    def _target(self, rel: str, node: ast.expr, cls: str | None) -> tuple[str, Function] | None:
        """(module, function) in tests/ that the expression `node` names, if any."""
        mod = self.modules[rel]
        if isinstance(node, ast.Name):
            fn = self._lookup(rel, node.id)
            if fn is not None:
                home = rel if node.id in mod.functions else self._home(rel, node.id)
                return home, fn
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = node.value.id
            if owner == "self" and cls is not None and node.attr in mod.classes.get(cls, {}):
                return rel, mod.classes[cls][node.attr]
            if owner in mod.imported_modules:
                target = mod.imported_modules[owner]
                fn = self._lookup(target, node.attr)
                if fn is not None:
                    return self._home(target, node.attr), fn
        return None

    def _home(self, rel: str, name: str) -> str:
        """The module where `name`, as seen from `rel`, is defined."""
        mod = self.modules[rel]
        seen = set()
        while name not in mod.functions and name in mod.imported_functions:
            if (mod.rel, name) in seen:
                break
            seen.add((mod.rel, name))
            rel, name = mod.imported_functions[name]
            mod = self.modules[rel]
        return mod.rel

    # -------------------------------------------------------------------------- checking

    def checks(self, rel: str, fn: Function, cls: str | None = None, _stack=()) -> bool:
        """Whether `fn` (in module `rel`) checks something, itself or through its helpers."""
        key = (rel, id(fn))
        if key in self._memo:
            return self._memo[key]
        if key in _stack:  # recursion: decided by the other functions on the way
            return False
        result = False
        helpers: list[tuple[str, Function]] = []
        for node in _walk_body(fn):
            if isinstance(node, ast.Assert) or _raises_assertion_error(node):
                result = True
                break
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                if name in CHECKING_CALLS:
                    result = True
                    break
                target = self._target(rel, node.func, cls)
                last = name.rsplit(".", 1)[-1] if name else ""
                if target is None and last.startswith("assert"):
                    result = True  # a library's assertion (pandas, numpy, unittest)
                    break
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                target = self._target(rel, node, cls)
                if target is not None and target[1] is not fn:
                    helpers.append(target)
        if not result:
            result = any(self.checks(r, f, cls, (*_stack, key)) for r, f in helpers)
        if not _stack or result:  # a False found inside a cycle may not be final
            self._memo[key] = result
        return result

    def tests(self) -> Iterator[tuple[str, str, Function, str | None]]:
        """(module, test id, function, class) of every test function pytest would collect."""
        for rel, mod in self.modules.items():
            if not _is_test_file(rel):
                continue
            for name, fn in mod.functions.items():
                if name.startswith("test"):
                    yield rel, f"{rel}::{name}", fn, None
            for cls, methods in mod.classes.items():
                if not cls.startswith("Test"):
                    continue
                for name, fn in methods.items():
                    if name.startswith("test"):
                        yield rel, f"{rel}::{cls}::{name}", fn, cls

    def offenders(self) -> list[str]:
        """Ids of the tests that check nothing."""
        return [tid for rel, tid, fn, cls in self.tests() if not self.checks(rel, fn, cls)]


def _raises_assertion_error(node: ast.AST) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return _dotted(exc) in ("AssertionError", "builtins.AssertionError")


def _walk_body(fn: Function) -> Iterator[ast.AST]:
    """Every node of the function's body (nested functions included), not its decorators."""
    for stmt in fn.body:
        yield from ast.walk(stmt)


# ------------------------------------------------------------------------- the real suite


def test_every_test_in_the_suite_checks_something():
    suite = Suite.from_disk()
    found = list(suite.tests())
    assert len(found) > 100, "the lint found too few tests: is it reading tests/?"
    assert any(tid.startswith("browser/") for _, tid, _, _ in found)
    assert suite.offenders() == [], (
        "these tests assert nothing (no assert, pytest.raises/warns, expect(), nor a helper "
        "in tests/ that does): make each check what its name says"
    )


# ------------------------------------------------------------------------ the lint itself

SAMPLE = {
    "hostile.py": """
def assert_inert(html):
    assert "<script" not in html

def make_rows():
    return [1, 2]
""",
    "browser/__init__.py": "",
    "browser/conftest.py": """
def wait_for_map(page):
    expect(page.locator(".leaflet-container")).to_be_visible()
    return page
""",
    "browser/test_b.py": """
from .conftest import wait_for_map

def test_waits_for_the_map(page):
    wait_for_map(page)

def test_opens_a_page(page):
    page.goto("http://localhost")
""",
    "test_a.py": """
import pytest
import hostile
from hostile import assert_inert, make_rows as rows
import pandas as pd

def _check(x):
    return _really_check(x)

def _really_check(x):
    assert x

def _loop_a(x):
    return _loop_b(x)

def _loop_b(x):
    return _loop_a(x)

def test_asserts():
    assert 1 + 1 == 2

def test_raises():
    with pytest.raises(ValueError):
        int("x")

def test_raises_as_call():
    pytest.raises(ValueError, int, "x")

def test_through_two_helpers():
    _check(1)

def test_through_an_imported_helper():
    assert_inert("<p>")

def test_through_a_module_attribute():
    hostile.assert_inert("<p>")

def test_helper_passed_on():
    list(map(_check, [1, 2]))

def test_nested_function_asserts():
    def inner():
        assert True
    inner()

def test_library_assertion():
    pd.testing.assert_frame_equal(pd.DataFrame(), pd.DataFrame())

def test_fails_explicitly():
    if 1 + 1 != 2:
        pytest.fail("arithmetic")

def test_raises_an_assertion_error():
    for path in ["a", "b"]:
        if "cdn" in path:
            raise AssertionError(path)

def test_raises_something_else():
    raise ValueError("not a check")

def test_asserts_nothing():
    x = 1 + 1
    print(x)

def test_only_a_helper_that_checks_nothing():
    rows()

def test_only_a_cycle():
    _loop_a(1)

@pytest.mark.parametrize("x", [1])
def test_decorator_is_not_the_body(x):
    pytest.raises  # a name, not a check
    x + 1

class TestGroup:
    def _helper(self):
        assert True

    def test_through_self(self):
        self._helper()

    def test_nothing(self):
        pass

    def test_unittest_style(self):
        self.assertEqual(1, 1)

class Helper:
    def test_not_collected(self):
        pass
""",
}


def test_the_lint_names_exactly_the_tests_that_check_nothing():
    assert Suite(SAMPLE).offenders() == [
        "browser/test_b.py::test_opens_a_page",
        "test_a.py::test_raises_something_else",
        "test_a.py::test_asserts_nothing",
        "test_a.py::test_only_a_helper_that_checks_nothing",
        "test_a.py::test_only_a_cycle",
        "test_a.py::test_decorator_is_not_the_body",
        "test_a.py::TestGroup::test_nothing",
    ]


def test_the_lint_reads_only_test_modules_for_tests():
    ids = [tid for _, tid, _, _ in Suite(SAMPLE).tests()]
    assert not any(t.startswith(("hostile.py", "browser/conftest.py")) for t in ids)
    assert "test_a.py::Helper::test_not_collected" not in ids
    assert len(ids) == 21


# ------------------------------------------------- the browser-marker guard (tests/_plugins.py)

GUARDED_SAMPLE = """
import pytest
from playwright.sync_api._generated import BrowserType


def _launch():
    # The guard records the launch before Playwright runs; no Chromium is started here.
    try:
        BrowserType.launch(None)
    except AttributeError:
        pass


def test_starts_chromium_unmarked():
    _launch()
    assert True


@pytest.mark.browser
def test_starts_chromium_marked():
    _launch()
    assert True


def test_no_browser():
    assert True
"""


def test_a_test_that_starts_chromium_without_the_browser_marker_fails(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # where _plugins.py is
    pytester.makeini("[pytest]\nmarkers =\n    browser: drives Chromium\n")
    pytester.makepyfile(test_sample=GUARDED_SAMPLE)
    result = pytester.runpytest_subprocess("-p", "_plugins", "-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_starts_chromium_unmarked started Chromium*without @pytest.mark.browser*"]
    )
