"""Every graph the project traces goes through common.graph_function, AutoGraph
off: a plain tf.function around tf_keras code spends most of its trace rewriting tf_keras."""

import ast
from pathlib import Path

from test_import_layers import ROOT, project_modules


def traced_with_autograph(path: Path) -> list:
    """path:line of every `tf.function` the file names (called or as a decorator)."""
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr == "function"
        and isinstance(node.value, ast.Name)
        and node.value.id == "tf"
    ]


def test_project_code_traces_without_autograph():
    graphs = ROOT / "common.py"
    files = [path for path in project_modules().values() if path != graphs]
    files += sorted((ROOT / "bench").glob("*.py"))
    assert [where for path in files for where in traced_with_autograph(path)] == []
    assert traced_with_autograph(graphs), "graph_function itself wraps tf.function"
