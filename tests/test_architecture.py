"""The layers of ``pipeline/`` point down only, modules import each other one way, every CLI command lives in
``pipeline/commands/``, and configuration travels explicitly."""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path

import pipeline

ROOT = Path(pipeline.__file__).parent
# Lower rank = lower layer; a module may import its own package or a package of a lower rank.
RANKS = {
    "config": 0,
    "warehouse": 1,
    "analyst_surface": 1,
    # The team's warehouse: the published copy's marts loaded with dlt into SEATWATCH_PUBLISH_DESTINATION.
    "team_warehouse": 1,
    # Is the org ready? (``seatwatch doctor``): the API client and the seeds, read-only.
    "doctor": 2,
    "atlassian": 1,
    "simulator": 1,
    # Process safety (locks, the Dagster instance, signals, children): above config only, so the simulator
    # command, the extract, the Dagster definitions and the commands can all use it.
    "runtime": 1,
    # The reclaim policy's channels (SMTP, webhook, outbox folder): above config only.
    "notify": 1,
    "sources": 2,
    "readers": 2,
    "extract": 3,
    # Reclaiming seats (plan, journal, apply, undo): the one code path of the CLI and the Dagster job.
    "reclaim": 3,
    "defs": 4,
    "definitions": 5,
    "commands": 6,
    "cli": 7,
}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(ROOT.rglob("*.py"))]


def _layer(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported_layers(tree: ast.Module) -> set[str]:
    layers = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        layers |= {name.split(".")[1] for name in names if name.startswith("pipeline.")}
    return layers


def test_every_module_belongs_to_a_layer() -> None:
    assert {_layer(path) for path, _ in _modules()} - {"__init__"} == set(RANKS)


def test_imports_point_down_only() -> None:
    upward = [
        f"{path.relative_to(ROOT)} imports pipeline.{layer}"
        for path, tree in _modules()
        if _layer(path) != "__init__"
        for layer in _imported_layers(tree)
        if RANKS[layer] > RANKS[_layer(path)]
    ]
    assert upward == []


def test_no_context_variables_and_no_environment_writes_outside_the_offline_switches() -> None:
    found = []
    for path, tree in _modules():
        source = ast.unparse(tree)
        if "ContextVar" in source:
            found.append(f"{path.relative_to(ROOT)}: ContextVar")
        writes = ("os.environ[", "os.environ.setdefault", "os.environ.update", "os.putenv")
        if any(write in source for write in writes) and path != ROOT / "config" / "offline.py":
            found.append(f"{path.relative_to(ROOT)}: writes os.environ")
    assert found == []


def test_one_place_runs_the_dlt_pipeline() -> None:
    callers = [
        str(path.relative_to(ROOT))
        for path, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run"
        and isinstance(node.func.value, ast.Name) and node.func.value.id in ("pipeline", "dlt")
    ]  # fmt: skip
    # One extract path into the DuckDB warehouse; the other dlt pipeline only copies the published marts to
    # the team's warehouse (SEATWATCH_PUBLISH_DESTINATION).
    assert callers == ["extract/run.py", "team_warehouse.py"]


def _module_name(path: Path) -> str:
    parts = ("pipeline", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module → the ``pipeline`` modules it imports, anywhere in it (``TYPE_CHECKING`` blocks included)."""
    modules = {_module_name(path): tree for path, tree in _modules()}
    graph: dict[str, set[str]] = {}
    for name, tree in modules.items():
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    targets.add(submodule if submodule in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name.startswith("pipeline")}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def test_no_import_cycle() -> None:
    graph = _import_graph()
    cycles, done = [], set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycles.append(" -> ".join([*path[path.index(name) :], name]))
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


def test_every_command_lives_in_pipeline_commands() -> None:
    """``add_parser`` (a subcommand) is called in ``pipeline/commands/`` only."""
    outside = [
        str(path.relative_to(ROOT))
        for path, tree in _modules()
        if path.parent != ROOT / "commands"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_parser"
    ]
    assert outside == []


def _constants(tree: ast.Module) -> dict[str, object]:
    """The module's UPPER_CASE names bound to a literal (a number, a string, a tuple of them, ...)."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    with contextlib.suppress(ValueError):  # not a literal: a call, a name, an expression
                        found[target.id] = ast.literal_eval(node.value)
    return found


def test_no_constant_is_defined_twice() -> None:
    """One fact, one home: a name bound to the same literal in two modules is one constant written twice
    (shared ones live in pipeline/config/shared.py)."""
    homes: dict[tuple[str, str], list[str]] = {}
    for path, tree in _modules():
        for name, value in _constants(tree).items():
            homes.setdefault((name, repr(value)), []).append(str(path.relative_to(ROOT)))
    assert {name: where for (name, _), where in homes.items() if len(where) > 1} == {}


def test_no_module_imports_a_private_module_of_another_package() -> None:
    """Dagster's and dagster-dbt's internals are patched in one place, pipeline/runtime/patches.py, which
    names them as text and imports them only when it applies a patch."""
    private = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in _modules()
        for node in ast.walk(tree)
        for name in (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else
            [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        )
        if not name.startswith(("pipeline.", "__")) and any(part.startswith("_") for part in name.split("."))
    ]  # fmt: skip
    assert private == []
