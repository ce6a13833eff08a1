"""The layers hold: `hastack_tools.dev` and `hastack_tools.ops` never import each other (both build on
`hastack_tools.common`, which imports neither), no module of hastack_tools reaches another through a
circle of imports, and no module imports another's private (`_name`) names. Imports are read from the
source (those inside functions too), so a lazy import cannot hide a dependency."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from hastack_tools.common.checkout import REPO_ROOT

PRODUCT = ("components/hastack", "policy/hastack_policy", "hastack_tools", "benchmarks", "tests")
UPPER_LAYERS = ("hastack_tools.dev", "hastack_tools.ops")


def module_name(path: Path) -> str:
    """`hastack_tools/dev/gate.py` -> `hastack_tools.dev.gate` (the import name, source roots stripped)."""
    relative = path.relative_to(REPO_ROOT)
    parts = list(relative.with_suffix("").parts)
    if parts[0] in ("components", "policy"):
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources(folder: str) -> Iterator[Path]:
    yield from sorted((REPO_ROOT / folder).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) for every import of a file, relative ones resolved."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, [alias.name for alias in node.names], node.lineno


def graph(folder: str, prefix: str) -> dict[str, set[str]]:
    """Module -> the modules of `prefix` it imports (a `from package import module` counts as the module)."""
    edges: dict[str, set[str]] = {}
    for path in sources(folder):
        found: set[str] = set()
        for module, names, _ in imports(path):
            if not module.startswith(prefix):
                continue
            found.add(module)
            found.update(f"{module}.{name}" for name in names if (REPO_ROOT / folder / f"{name}.py").exists())
        edges[module_name(path)] = found
    return edges


def test_dev_and_ops_never_import_each_other_and_common_imports_neither() -> None:
    crossings = [
        f"{module} imports {target}"
        for module, targets in graph("hastack_tools", "hastack_tools").items()
        for target in targets
        if (module.startswith("hastack_tools.dev") and target.startswith("hastack_tools.ops"))
        or (module.startswith("hastack_tools.ops") and target.startswith("hastack_tools.dev"))
        or (
            module.startswith("hastack_tools.common")
            and target.startswith(("hastack_tools.dev", "hastack_tools.ops"))
        )
    ]
    assert crossings == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, as the path that closes it (depth-first over the graph)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges.get(module, ())):
            if target not in edges:
                continue
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return found


def test_no_import_circle_in_hastack_tools() -> None:
    edges = graph("hastack_tools", "hastack_tools")
    edges = {m: {t for t in ts if t != m and not m.startswith(t + ".")} for m, ts in edges.items()}
    assert cycles(edges) == []


def test_the_circle_finder_finds_a_circle() -> None:
    """Guards the test above: a made-up circle of three modules is found."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize("folder", PRODUCT)
def test_no_private_name_is_imported_across_modules(folder: str) -> None:
    private = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {name} from {module}"
        for path in sources(folder)
        for module, names, line in imports(path)
        if not module.startswith(("pulumi", "google", "grpc"))  # the adapters to Pulumi's internals
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []
