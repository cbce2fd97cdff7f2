"""The import graph of a package, read from its source: every import statement counts,
also those inside functions, which Python runs later but which tie the modules as much."""

import ast
from collections.abc import Iterator
from pathlib import Path


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under ``root`` (its folder), by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    return modules


def _imported(tree: ast.AST, name: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(module, name imported from it or None) for each import in the tree."""
    here = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (``from a import b`` counts as
    importing ``a.b`` when that is a module, else ``a``)."""
    modules = module_names(root, package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges = set()
        for module, imported in _imported(tree, name, path.name == "__init__.py"):
            if imported is not None and f"{module}.{imported}" in modules:
                edges.add(f"{module}.{imported}")
            elif module in modules:
                edges.add(module)
        edges.discard(name)
        graph[name] = edges
    return graph


def private_uses(root: Path, package: str) -> list[str]:
    """Private names of one module of the package used in another ("user: module._name"):
    imported (``from module import _name``) or reached through the module
    (``module._name``). What a module keeps private is its own."""
    modules = module_names(root, package)
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        bound: dict[str, str] = {}  # local name -> the package's module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                for alias in node.names:
                    for module, imported in _imported(
                        ast.Module([node], []), name, path.name == "__init__.py"
                    ):
                        if imported != alias.name and module != alias.name:
                            continue
                        target = f"{module}.{imported}" if imported else module
                        if target in modules:
                            bound[alias.asname or alias.name.split(".")[0]] = target
                        elif _private(imported) and module in modules and module != name:
                            found.append(f"{name}: {module}.{imported}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in bound
                and _private(node.attr)
            ):
                found.append(f"{name}: {bound[node.value.id]}.{node.attr}")
    return sorted(set(found))


def _private(name: str | None) -> bool:
    return name is not None and name.startswith("_") and not name.startswith("__")


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
