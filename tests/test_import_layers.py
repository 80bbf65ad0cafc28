"""The project's own imports, read statically (ast, every import statement, those inside functions
too, since the code imports lazily in places): no cycle between project modules nor between
project packages, and the layers only point down.

    common, metrics  ->  data  ->  pipeline_config  ->  trainer_module  ->  components
                     ->  pipeline (runners), reporting, dcgan_faces

common (shared names and helpers) imports nothing of the project; metrics (image-quality metrics)
imports only common; data imports only those two; pipeline_config (every setting, declared)
imports only those three; trainer_module imports neither components nor anything above;
components (ExampleGen, the gate, the evaluator) may use trainer_module's networks, export and
readers but import neither pipeline, reporting nor dcgan_faces; reporting imports neither
pipeline nor dcgan_faces (runners import reporting, never the other way); only pipeline/ imports
the local runner. tf_environment (Keras 2 and oneDNN,
set before TensorFlow loads) is imported by every layer.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent  # the repository's top level, where the layers sit
PACKAGES = (
    "metrics",
    "data",
    "components",
    "trainer_module",
    "pipeline",
    "reporting",
    "dcgan_faces",
)
TOP_LEVEL_MODULES = ("bootstrap", "common", "tf_environment", "pipeline_config")
BOTTOM = ("bootstrap", "common", "metrics", "tf_environment")
RUNNER = "pipeline.run_local"


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str  # module name
    imported: str  # the project module it names
    where: str  # path:line

    def __str__(self) -> str:
        return f"{self.where}: {self.importer} imports {self.imported}"


def _module_name(path: Path) -> str:
    """trainer_module/run.py -> 'trainer_module.run'."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """module name -> file, for every .py file of the project's packages and top-level modules."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules[_module_name(path)] = path
    for name in TOP_LEVEL_MODULES:
        modules[name] = root / f"{name}.py"
    return modules


def _project_module(name: str, modules: Iterable[str]) -> str | None:
    """The longest project module `name` is or lies in ('a.b.c.Func' -> 'a.b.c')."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _shown(path: Path) -> str:
    """The path from the project root, as the report names it."""
    return path.relative_to(ROOT).as_posix() if ROOT in path.parents else str(path)


def _is_package(module: str, modules: dict[str, Path]) -> bool:
    return modules[module].name == "__init__.py"


def imports_of(module: str, modules: dict[str, Path]) -> list[Import]:
    """Every project module `module` imports, anywhere in its file."""
    path = modules[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []

    def add(name: str, node: ast.AST) -> None:
        target = _project_module(name, modules)
        if target is not None and target != module:
            found.append(Import(module, target, f"{_shown(path)}:{node.lineno}"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the importer's package
                package = (
                    module.split(".") if _is_package(module, modules) else (module.split(".")[:-1])
                )
                base = ".".join(
                    package[: len(package) - node.level + 1]
                    + ([node.module] if node.module else [])
                )
            else:
                base = node.module or ""
            for alias in node.names:  # `from a.b import c`: the module a.b.c, or a name in a.b
                add(f"{base}.{alias.name}", node)
    return sorted(set(found), key=lambda edge: (edge.where, edge.imported))


def import_graph(root: Path = ROOT) -> list[Import]:
    modules = project_modules(root)
    return [edge for module in modules for edge in imports_of(module, modules)]


def _strongly_connected(nodes: Iterable[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(edges.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _one_cycle(component: list[str], by_importer: dict[str, list[Import]]) -> list[Import]:
    """A shortest cycle through the component's first module, as the imports that make it."""
    members, start = set(component), component[0]
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for edge in by_importer.get(node, ()):
            if edge.imported == start:
                path = [edge]
                while previous[edge.importer] is not None:
                    edge = previous[edge.importer]
                    path.append(edge)
                return path[::-1]
            if edge.imported in members and edge.imported not in previous:
                previous[edge.imported] = edge
                queue.append(edge.imported)
    raise AssertionError(f"no cycle through {start}")


def import_cycles(graph: list[Import]) -> list[tuple[list[str], list[Import]]]:
    """Per group of modules that import each other (directly or round a loop): its modules, and
    one cycle through them as the imports that make it."""
    by_importer: dict[str, list[Import]] = {}
    for edge in graph:
        by_importer.setdefault(edge.importer, []).append(edge)
    nodes = sorted({edge.importer for edge in graph} | {edge.imported for edge in graph})
    edges = {node: sorted({edge.imported for edge in by_importer.get(node, ())}) for node in nodes}
    return [
        (component, _one_cycle(component, by_importer))
        for component in _strongly_connected(nodes, edges)
        if len(component) > 1
    ]


def _describe_cycles(cycles: list[tuple[list[str], list[Import]]]) -> str:
    return "\n".join(
        f"{len(members)} modules import each other ({', '.join(members)}), e.g. "
        + " -> ".join([cycle[0].importer] + [edge.imported for edge in cycle])
        + "".join(f"\n    {edge}" for edge in cycle)
        for members, cycle in cycles
    )


def _package(module: str) -> str:
    return module.split(".")[0]


def _violations(
    graph: list[Import], importers: Iterable[str], forbidden: Iterable[str]
) -> list[Import]:
    importers, forbidden = set(importers), set(forbidden)
    return [
        edge
        for edge in graph
        if _package(edge.importer) in importers and _package(edge.imported) in forbidden
    ]


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return import_graph()


def test_the_walk_sees_the_projects_imports(graph):
    """Guards the walk itself: known imports, a lazy one inside a function among them."""
    modules = project_modules()
    assert {
        "pipeline_config",
        "data.synthetic_celeba",
        "components.gan_evaluator.results",
        "reporting.run_report",
        "dcgan_faces.cli",
        RUNNER,
    } <= set(modules)
    pairs = {(edge.importer, edge.imported) for edge in graph}
    assert ("pipeline.run_local", "pipeline_config") in pairs  # module level
    assert ("pipeline.run_local", "reporting.report_html") in pairs  # inside a function
    assert ("components.gan_evaluator.executor", "components.gan_evaluator.results") in pairs
    assert ("reporting.report_html", "reporting.run_report") in pairs


def test_no_import_cycle_between_project_modules(graph):
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + _describe_cycles(cycles)


def test_no_import_cycle_between_project_packages(graph):
    """Packages as nodes: a package whose module imports another package's module points to it."""
    edges = [
        Import(_package(edge.importer), _package(edge.imported), edge.where)
        for edge in graph
        if _package(edge.importer) != _package(edge.imported)
    ]
    cycles = import_cycles(edges)
    assert not cycles, "package cycles:\n" + _describe_cycles(cycles)


def test_the_bottom_layer_imports_only_itself(graph):
    bad = _violations(
        graph,
        ["bootstrap", "common", "tf_environment"],
        set(PACKAGES + TOP_LEVEL_MODULES) - {"tf_environment"},
    )
    bad += _violations(graph, ["metrics"], set(PACKAGES + TOP_LEVEL_MODULES) - set(BOTTOM))
    assert not bad, "\n".join(map(str, bad))


def test_data_imports_only_the_bottom_layer(graph):
    others = set(PACKAGES + TOP_LEVEL_MODULES) - {"data"} - set(BOTTOM)
    bad = _violations(graph, ["data"], others)
    assert not bad, "\n".join(map(str, bad))


def test_the_settings_import_only_the_bottom_layer_and_data(graph):
    """pipeline_config declares; the components and the Trainer read their groups from it."""
    others = set(PACKAGES + TOP_LEVEL_MODULES) - {"data", "pipeline_config"} - set(BOTTOM)
    bad = _violations(graph, ["pipeline_config"], others)
    assert not bad, "\n".join(map(str, bad))
    pairs = {(edge.importer, edge.imported) for edge in graph}
    assert ("trainer_module.settings", "pipeline_config") in pairs


def test_trainer_module_imports_nothing_above_it(graph):
    bad = _violations(
        graph, ["trainer_module"], ["components", "pipeline", "reporting", "dcgan_faces"]
    )
    assert not bad, "\n".join(map(str, bad))


def test_components_import_nothing_above_them(graph):
    bad = _violations(graph, ["components"], ["pipeline", "reporting", "dcgan_faces"])
    assert not bad, "\n".join(map(str, bad))


def test_reporting_imports_neither_runners_nor_the_command(graph):
    bad = _violations(graph, ["reporting"], ["pipeline", "dcgan_faces"])
    assert not bad, "\n".join(map(str, bad))


def test_only_pipeline_imports_the_local_runner(graph):
    bad = [
        edge for edge in graph if edge.imported == RUNNER and _package(edge.importer) != "pipeline"
    ]
    assert not bad, "\n".join(map(str, bad))


def test_the_evaluators_results_import_neither_tfx_nor_tensorflow():
    """The report, the summary and `dcgan-faces info` read results without loading TFX."""
    code = (
        "import sys; import components.gan_evaluator.results; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'tfx', 'tensorflow', 'tensorflow_transform'})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_a_cycle_is_caught(tmp_path):
    """The cycle check can fail: two modules of a copied package that import each other, one of
    them lazily inside a function."""
    package = tmp_path / "reporting"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from reporting import b\n")
    (package / "b.py").write_text("def f():\n    from reporting.a import something\n")
    cycles = import_cycles(
        [
            edge
            for module in ("reporting.a", "reporting.b")
            for edge in imports_of(
                module,
                {
                    "reporting": package / "__init__.py",
                    "reporting.a": package / "a.py",
                    "reporting.b": package / "b.py",
                },
            )
        ]
    )
    assert [(members, [str(edge) for edge in cycle]) for members, cycle in cycles] == [
        (
            ["reporting.a", "reporting.b"],
            [
                f"{package / 'a.py'}:1: reporting.a imports reporting.b",
                f"{package / 'b.py'}:2: reporting.b imports reporting.a",
            ],
        )
    ]
