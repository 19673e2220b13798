"""The house as docs/architecture.md draws it: every import runs down the layers, and no
modules import each other in a circle. Read from the source (nothing is imported)."""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitoring", "graphql_schema", "config")

#: From the ground up: a module may import its own layer and the layers below it.
LAYERS = (
    ("kernel", ("monitoring.kernel",)),
    ("engine", ("monitoring.engine",)),
    ("tools", ("monitoring.tools",)),
    (
        "models",
        (
            "monitoring.models", "monitoring.migrations", "monitoring.throttle", "monitoring.audit",
            "monitoring.organizations.models", "monitoring.organizations.roles",
        ),
    ),
    ("stores", ("monitoring.stores", "monitoring.organizations")),
    ("worker", ("monitoring.worker",)),
    ("live", ("monitoring.live",)),
    ("ingest", ("monitoring.ingest",)),
    ("domain", ("monitoring.reports", "monitoring.alerts", "monitoring.fleet", "monitoring.history", "monitoring.schedules")),
    (
        "edges",
        (
            "monitoring.web", "monitoring.admin", "monitoring.management", "monitoring.tasks",
            "monitoring.apps", "graphql_schema", "config",
            # A domain app's own edges: its admin, commands and task entry points.
            "monitoring.alerts.admin", "monitoring.alerts.management", "monitoring.alerts.tasks",
            "monitoring.fleet.tasks", "monitoring.schedules.admin", "monitoring.schedules.tasks",
        ),
    ),
)


def layer_of(module: str) -> int | None:
    found = [
        (len(prefix), index)
        for index, (_, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    return max(found)[1] if found else None


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _runtime_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (type hints only; strawberry's
    lazy types refer to each other that way)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (child for orelse in node.orelse for child in [orelse, *_runtime_nodes(orelse)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imports() -> dict[str, set[str]]:
    """Module → the modules of ours it imports (anywhere in it: deferred imports count)."""
    known = {module_name(path) for path in source_files()}
    found: dict[str, set[str]] = defaultdict(set)
    for path in source_files():
        module = module_name(path)
        for node in _runtime_nodes(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            else:
                continue
            for name in names:
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    found[module].add(name)
    return found


def test_every_module_has_a_layer():
    assert [module_name(p) for p in source_files() if layer_of(module_name(p)) is None] in (
        [],
        ["monitoring"],
    )


def test_no_import_runs_up_a_layer():
    upward = sorted(
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in imports().items()
        for target in targets
        if layer_of(module) is not None and layer_of(target) is not None and layer_of(target) > layer_of(module)
    )
    assert upward == []


def test_the_kernel_imports_nothing_of_ours():
    kernel = {m: t for m, t in imports().items() if m.startswith("monitoring.kernel")}
    assert {m: sorted(t) for m, t in kernel.items() if any(not x.startswith("monitoring.kernel") for x in t)} == {}


def test_no_import_circle():
    graph = imports()
    # A package's __init__ that hands its modules' names on is the package's face, not a
    # link of a circle through it.
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
                circles.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    assert circles == []
