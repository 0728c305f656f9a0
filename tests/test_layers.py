"""The simulator's layers point one way, bottom to top: core -> engine -> experiment -> front.

Every import statement of every sim/*.py counts (inside functions too), except those under
`if TYPE_CHECKING:`, which never run, and those under `if __name__ == "__main__":`, which run
only when the module is the program (`python -m sim.sensitivity` hands over to its command in
the front layer) and never when it is imported. A module not in `LAYER_OF` fails the test
until it is classified. Also here: which modules decide a result (`sim.results.code_version`).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from sim import results

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"

LAYERS = ("core", "engine", "experiment", "front")
LAYER_OF = {
    "__init__": "core",  # the package itself: a docstring and __version__
    **dict.fromkeys(
        (
            "outcomes",
            "preferences",
            "solutions",
            "war",
            "stability",
            "strategies",
            "opponents",
            "beliefs",
            "settings",
            "problem",
            "allocator",
            "scoring",
            "enforcement",
        ),
        "core",
    ),
    **dict.fromkeys(("agents", "model", "rounds", "settlement"), "engine"),
    **dict.fromkeys(
        (
            "schema",
            "validation",
            "designs",
            "scenario",
            "replication",
            "results",
            "experiment",
            "errors",
            "sweeper",
            "sweepdir",
            "sensitivity",
            "cases",
            "forecast",
        ),
        "experiment",
    ),
    **dict.fromkeys(
        (
            "hydra_main",
            "__main__",
            "labels",
            "plots",
            "callbacks",
            "cli",
            "page",
            "page_model",
            "sensitivity_cli",
            "terms",
            "validate",
        ),
        "front",
    ),
}
CONFIG_PACKAGES = ("hydra", "omegaconf")  # the config system: experiment and front only

Graph = Mapping[str, Mapping[str, int]]  # module -> {imported name: line}


def imports_of(path: Path, package: str = "sim") -> dict[str, int]:
    """What `path` imports -> the first line that does: sim modules by their short name
    (`model`), anything else by its top-level package (`hydra`)."""
    found: dict[str, int] = {}

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main(node.test)):
            for child in node.orelse:
                visit(child)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = ".".join(filter(None, [package, node.module])) if node.level else node.module
            # `from sim import war` imports the module sim.war; `from sim.war import x`, sim.war
            names = [
                f"{module}.{alias.name}" if module == package else str(module)
                for alias in node.names
            ]
        for name in names:
            parts = name.split(".")
            key = (parts[1] if len(parts) > 1 else "__init__") if parts[0] == package else parts[0]
            found.setdefault(key, node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_main(test: ast.expr) -> bool:
    """`__name__ == "__main__"`: the module run as the program, not imported."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def upward_imports(graph: Graph, layer_of: Mapping[str, str]) -> list[str]:
    """Imports of a module of a higher layer than the importer's."""
    rank = {name: LAYERS.index(layer) for name, layer in layer_of.items()}
    return [
        f"{module}:{line}: {module} ({layer_of[module]}) imports {name} ({layer_of[name]})"
        for module, imported in sorted(graph.items())
        for name, line in sorted(imported.items())
        if module in rank and name in rank and rank[name] > rank[module]
    ]


def find_cycle(graph: Graph) -> list[str] | None:
    """An import cycle among the graph's modules (imports of other names are ignored), as
    [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for name in sorted(graph.get(module, {})):
            if name not in graph:
                continue
            if state.get(name) == "open":
                return [*path[path.index(name) :], name]
            if name not in state and (cycle := visit(name)):
                return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def config_imports(graph: Graph, layer_of: Mapping[str, str]) -> list[str]:
    """Imports of hydra or omegaconf by core and engine modules."""
    return [
        f"{module}:{line}: {module} ({layer_of[module]}) imports {name}"
        for module, imported in sorted(graph.items())
        for name, line in sorted(imported.items())
        if layer_of.get(module) in ("core", "engine") and name in CONFIG_PACKAGES
    ]


def config_modules_after_importing(modules: list[str]) -> list[str]:
    """hydra / omegaconf modules loaded by importing `modules` in a fresh interpreter."""
    code = (
        f"import json, sys; import {', '.join(modules)}; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {CONFIG_PACKAGES})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return {path.stem: imports_of(path) for path in sorted(SIM.glob("*.py"))}


def test_every_module_has_a_layer(graph):
    unclassified = sorted(set(graph) - set(LAYER_OF))
    assert not unclassified, f"sim modules with no layer in LAYER_OF: {unclassified}"
    gone = sorted(set(LAYER_OF) - set(graph))
    assert not gone, f"LAYER_OF names modules that are not in sim/: {gone}"


def test_no_module_imports_a_higher_layer(graph):
    problems = upward_imports(graph, LAYER_OF)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_import_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_core_and_engine_do_not_import_the_config_system(graph):
    problems = config_imports(graph, LAYER_OF)
    assert not problems, "\n".join(problems)


def test_importing_the_engine_loads_no_config_system():
    """`import sim.model` (and every other core and engine module) in a fresh interpreter
    leaves no hydra or omegaconf module behind."""
    below = sorted(m for m, layer in LAYER_OF.items() if layer in ("core", "engine"))
    assert config_modules_after_importing([f"sim.{m}" for m in below if m != "__init__"]) == []


# --- the checks can fail ---------------------------------------------------------------------


def test_the_checks_report_a_violation_a_cycle_and_a_config_import():
    fake = {
        "war": {"model": 3, "numpy": 1},  # core -> engine: against the layers
        "model": {"rounds": 5},
        "rounds": {"war": 7, "omegaconf": 8},  # closes war -> model -> rounds -> war
    }
    layers = {"war": "core", "model": "engine", "rounds": "engine"}
    assert upward_imports(fake, layers) == ["war:3: war (core) imports model (engine)"]
    assert find_cycle(fake) == ["model", "rounds", "war", "model"]
    assert config_imports(fake, layers) == ["rounds:8: rounds (engine) imports omegaconf"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None


def test_imports_are_found_inside_functions_but_not_under_type_checking_or_main(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from sim import war, solutions\n"
        "import sim.model as m\n"
        "from . import rounds\n"
        "from .agents import PartyAgent\n"
        "if TYPE_CHECKING:\n"
        "    from sim.plots import styled\n"
        "else:\n"
        "    import numpy\n"
        "def f():\n"
        "    from sim.results import CODE_VERSION\n"
        "    import hydra.core\n"
        "if __name__ == '__main__':\n"
        "    from sim.page import main\n"
        "if __name__ != '__main__':\n"
        "    import sim.cli\n"
    )
    assert imports_of(source) == {
        "typing": 1,
        "war": 2,
        "solutions": 2,
        "model": 3,
        "rounds": 4,
        "agents": 5,
        "numpy": 9,
        "results": 11,
        "hydra": 12,
        "cli": 16,
    }


def test_a_config_import_below_the_experiment_layer_is_seen_in_a_fresh_interpreter():
    assert "omegaconf" in config_modules_after_importing(["sim.schema"])


# --- the code version: the modules that decide a result ---------------------------------------


def test_result_modules_are_the_engine_and_what_builds_a_replication():
    modules = results.result_modules()
    for name in ("model", "war", "stability", "strategies", "replication", "scenario", "designs"):
        assert name in modules
    # A job's rows: which replications run, their columns, a failed job's error message.
    for name in ("experiment", "results", "errors"):
        assert name in modules
    for name in ("plots", "hydra_main", "callbacks", "__main__", "cli"):
        assert name not in modules
    assert modules == sorted(modules)


def test_code_version_ignores_edits_outside_the_result_modules(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(SIM, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = results.code_version(package)
    assert before == results.code_version()  # the same files, the same version

    with (package / "plots.py").open("a") as f:
        f.write("\n# an edit to a figure\n")
    assert results.code_version(package) == before

    with (package / "war.py").open("a") as f:
        f.write("\n# an edit to the war\n")
    assert results.code_version(package) != before


def test_a_module_imported_inside_a_function_counts(tmp_path):
    package = tmp_path / "sim"
    package.mkdir()
    (package / "replication.py").write_text("def f():\n    from sim import helper\n")
    (package / "helper.py").write_text("import sim.deep\n")
    (package / "deep.py").write_text("")
    (package / "unrelated.py").write_text("from sim import replication\n")
    assert results.result_modules(package) == ["deep", "helper", "replication"]


def test_imports_in_nested_statements_count_and_the_version_is_computed_once(tmp_path):
    package = tmp_path / "sim"
    package.mkdir()
    (package / "replication.py").write_text(
        "class A:\n"
        "    def f(self):\n"
        "        try:\n"
        "            with open('x'):\n"
        "                from sim import helper\n"
        "        except ImportError:\n"
        "            import sim.deep\n"
        "x = [i for i in range(3)]\n"
    )
    (package / "helper.py").write_text("")
    (package / "deep.py").write_text("")
    assert results.result_modules(package) == ["deep", "helper", "replication"]
    assert results.CODE_VERSION == results.current_code_version() == results.code_version()
    assert results.current_code_version() is results.current_code_version()
    with pytest.raises(AttributeError, match="NO_SUCH"):
        results.NO_SUCH  # noqa: B018
