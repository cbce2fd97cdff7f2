"""The layout's rules, checked on the source: no import cycle between aggregator's modules
(imports inside functions count), and no module using another's private names."""

from pathlib import Path

from tests.support.imports import cycles, import_graph, private_uses

PACKAGE = Path(__file__).resolve().parent.parent / "aggregator"


def test_no_import_cycle() -> None:
    graph = import_graph(PACKAGE, "aggregator")
    assert "aggregator.store.engine" in graph  # the walk found the package's modules
    assert cycles(graph) == []


def test_cycles_are_found_through_imports_inside_functions(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.c import thing\n")
    (package / "c.py").write_text("from . import a\nthing = 1\n")
    (package / "d.py").write_text("import pkg.a\n")
    assert cycles(import_graph(package, "pkg")) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_module_uses_another_modules_private_names(tmp_path: Path) -> None:
    assert private_uses(PACKAGE, "aggregator") == []
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("_hidden = 1\n__version__ = 2\n")
    (package / "b.py").write_text("from pkg import a\nfrom pkg.a import _hidden\nx = a._hidden\n")
    assert private_uses(package, "pkg") == ["pkg.b: pkg.a._hidden"]


def test_test_modules_share_helpers_only_through_tests_support() -> None:
    tests = Path(__file__).resolve().parent
    graph = import_graph(tests, "tests")
    importing_tests = {
        module: sorted(t for t in targets if t.rpartition(".")[2].startswith(("test_", "conftest")))
        for module, targets in graph.items()
        if not module.startswith("tests.benchmarks")
    }
    assert {m: t for m, t in importing_tests.items() if t} == {}


MOST_LINES = 400  # split a module by domain before it passes this (STYLE.md)


def test_no_module_is_over_the_size_to_split_at() -> None:
    sizes = {
        path.relative_to(PACKAGE.parent).as_posix(): len(
            path.read_text(encoding="utf-8").splitlines()
        )
        for path in PACKAGE.rglob("*.py")
    }
    assert {path: lines for path, lines in sizes.items() if lines > MOST_LINES} == {}
