"""The project's top level is laid out as TFX's templates lay a project out: `pipeline/`,
`components/`, `trainer_module/`, `data/`, `pipeline_config.py` and a few more. Those names are
generic, and Python resolves a top-level name to whichever folder comes first on sys.path: a
dependency that one day ships a `pipeline` or `data` package would shadow ours, or be shadowed by
ours, depending on the order. These tests turn that into a failure of the suite rather than a
wrong import at run time.

How the code gets onto sys.path: `make setup` installs the project editable into its own .venv
(never elsewhere), and the runners run as scripts put the repository's top level first
(pipeline/run_local.py).
"""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import tomli

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "celeba-dcgan-tfx"
NOT_CODE = {
    "tests",
    "bench",
    "docs",
    "scripts",
    "schema",
}  # folders of the repository, not installed


def declared_top_level_names() -> set:
    """The top-level modules and packages pyproject.toml installs."""
    setuptools = tomli.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {name for name in setuptools["packages"] if "." not in name}
    return packages | set(setuptools["py-modules"])


def top_level_names_on_disk() -> set:
    """The Python packages and modules at the repository's top level."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    modules = {path.stem for path in ROOT.glob("*.py")}
    return (packages | modules) - NOT_CODE


def _normalised(distribution: str) -> str:
    return distribution.lower().replace("_", "-")


def test_every_top_level_package_of_ours_is_declared_and_installed():
    """A new top-level folder or module cannot slip past the clash check below."""
    assert top_level_names_on_disk() == declared_top_level_names()
    assert {"pipeline", "components", "trainer_module", "data", "pipeline_config"} <= (
        declared_top_level_names()
    )


def names_others_provide() -> dict:
    """Our top-level name -> the other installed distributions that provide it too."""
    providers = importlib.metadata.packages_distributions()
    clashes = {
        name: sorted(dist for dist in providers.get(name, ()) if _normalised(dist) != DISTRIBUTION)
        for name in declared_top_level_names()
    }
    return {name: dists for name, dists in clashes.items() if dists}


def test_no_other_installed_distribution_or_standard_module_has_one_of_our_names():
    assert names_others_provide() == {}
    assert not declared_top_level_names() & sys.stdlib_module_names
    # The check reads real metadata: the project's own editable install names every one of them.
    providers = importlib.metadata.packages_distributions()
    assert all(
        DISTRIBUTION in map(_normalised, providers.get(name, ()))
        for name in declared_top_level_names()
    ), "the project is not installed into this environment: run `make setup`"


def test_a_dependency_shipping_one_of_our_names_is_found(tmp_path, monkeypatch):
    """A distribution installed beside ours whose top-level package is `data`."""
    info = tmp_path / "shadowing_dist-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shadowing-dist\nVersion: 1.0\n")
    (info / "top_level.txt").write_text("data\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert names_others_provide() == {"data": ["shadowing-dist"]}


def test_the_names_resolve_to_this_repository_from_any_folder(tmp_path):
    """The editable install maps each top-level name to the repository's own files, whatever the
    current folder (here an empty one, where nothing of ours is on the path by accident)."""
    code = (
        "import importlib.util, sys\n"
        "for name in sys.argv[1:]:\n"
        "    print(name, importlib.util.find_spec(name).origin)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *sorted(declared_top_level_names())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    origins = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert origins == {
        name: str(ROOT / name / "__init__.py")
        if (ROOT / name).is_dir()
        else str(ROOT / f"{name}.py")
        for name in declared_top_level_names()
    }
