"""The simulator's layers point one way, bottom to top: core -> engine -> experiment ->
analysis -> front.

A module's layer is its folder: `sim/core/`, `sim/engine/`, `sim/experiment/`,
`sim/analysis/`, `sim/front/` (figures in `sim/front/figures/`)
(the package's own `__init__` counts as core, `python -m sim`'s `__main__` as front). Every
import statement of every module counts (inside functions too), except those under
`if TYPE_CHECKING:`, which never run, and those under `if __name__ == "__main__":`, which
run only when the module is the program. Also here: which modules decide a result
(`sim.experiment.provenance.code_version`).
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

from sim.experiment import provenance

ROOT = Path(__file__).resolve().parent.parent
SIM = ROOT / "sim"

LAYERS = ("core", "engine", "experiment", "analysis", "front")
ROOT_MODULES = {"__init__": "core", "__main__": "front"}  # the package, the program


def layer_of(module: str) -> str | None:
    """A module's layer, read from its path (`core.war` -> core); None outside the layers."""
    top = module.split(".")[0]
    return top if top in LAYERS else ROOT_MODULES.get(module)


CONFIG_PACKAGES = ("hydra", "omegaconf")  # the config system: experiment and front only

Graph = Mapping[str, Mapping[str, int]]  # module -> {imported name: line}


def imports_of(path: Path, modules: set[str], package: str = "sim") -> dict[str, int]:
    """What `path` imports -> the first line that does: sim modules by their dotted name
    under sim (`engine.model`, the longest prefix of the imported name that is one of
    `modules`), anything else by its top-level package (`hydra`)."""
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
            names = [f"{module}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != package:
                found.setdefault(parts[0], node.lineno)
                continue
            for end in range(len(parts), 1, -1):
                if (module := ".".join(parts[1:end])) in modules:
                    found.setdefault(module, node.lineno)
                    break
            else:
                found.setdefault("__init__", node.lineno)  # the package itself
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


def layers(graph: Graph) -> dict[str, str]:
    """Each module of the graph -> its layer (modules outside the layers left out)."""
    return {m: layer for m in graph if (layer := layer_of(m)) is not None}


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
    modules = provenance.package_modules(SIM)
    return {name: imports_of(path, set(modules)) for name, path in modules.items()}


def test_every_module_has_a_layer(graph):
    unclassified = sorted(m for m in graph if layer_of(m) is None)
    assert not unclassified, f"sim modules outside sim/<layer>/: {unclassified}"
    assert {layer_of(m) for m in graph} == set(LAYERS)
    assert "engine.model" in graph and "core.war" in graph  # the graph reads the tree


def test_no_module_imports_a_higher_layer(graph):
    problems = upward_imports(graph, layers(graph))
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_import_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_core_and_engine_do_not_import_the_config_system(graph):
    problems = config_imports(graph, layers(graph))
    assert not problems, "\n".join(problems)


def test_importing_the_engine_loads_no_config_system(graph):
    """`import sim.engine.model` (and every other core and engine module) in a fresh
    interpreter leaves no hydra or omegaconf module behind."""
    below = sorted(m for m in graph if layer_of(m) in ("core", "engine"))
    modules = [f"sim.{m}".removesuffix(".__init__") for m in below]
    assert config_modules_after_importing(modules) == []


# --- where configuration stops: the compile step -----------------------------------------------

# What runs a compiled job (`sim.experiment.compiler.Job`): it takes typed values, never a config.
BELOW_COMPILE = ("experiment.replication", "experiment.draws", "experiment.assessment")
BELOW_COMPILE += ("experiment.durability",)
CONFIG_READERS = ("experiment.schema", "experiment.aliases", "experiment.build")
CONFIG_READERS += ("experiment.validation", "experiment.checks", "experiment.compiler")
CONFIG_READERS += ("experiment.checks_war",)
CONFIG_NAMES = {"cfg", "config", "conf"}


def below_compile(module: str) -> bool:
    return layer_of(module) in ("core", "engine") or module in BELOW_COMPILE


def config_readers(graph: Graph, paths: Mapping[str, Path]) -> list[str]:
    """Modules below the compile step that import a module that reads a config, take a
    parameter named like a config, or read a name like one."""
    problems = [
        f"{module}:{line}: {module} imports {name}, which reads a config"
        for module, imported in sorted(graph.items())
        if below_compile(module)
        for name, line in sorted(imported.items())
        if name in CONFIG_READERS
    ]
    for module in sorted(m for m in graph if below_compile(m)):
        tree = ast.parse(paths[module].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            named = node.arg if isinstance(node, ast.arg) else getattr(node, "id", None)
            if isinstance(node, ast.arg | ast.Name) and named in CONFIG_NAMES:
                problems.append(f"{module}:{node.lineno}: {module} reads a config ({named})")
    return problems


def test_nothing_below_the_compile_step_reads_a_config(graph):
    problems = config_readers(graph, provenance.package_modules(SIM))
    assert not problems, "\n".join(problems)
    assert {"core.war", "engine.model", "experiment.replication"} <= set(
        filter(below_compile, graph)
    )


def test_the_compile_check_sees_a_config_parameter_and_a_config_import(tmp_path):
    paths = {"experiment.draws": tmp_path / "draws.py", "core.war": tmp_path / "war.py"}
    paths["experiment.draws"].write_text("def draw(cfg, rng):\n    return cfg.war\n")
    paths["core.war"].write_text("def fine(settings):\n    return settings.max_rounds\n")
    graph = {"experiment.draws": {"experiment.build": 1}, "core.war": {}}
    assert config_readers(graph, paths) == [
        "experiment.draws:1: experiment.draws imports experiment.build, which reads a config",
        "experiment.draws:1: experiment.draws reads a config (cfg)",
        "experiment.draws:2: experiment.draws reads a config (cfg)",
    ]


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
        "from sim.core import war, solutions\n"
        "import sim.engine.model as m\n"
        "from .engine import rounds\n"
        "from .engine.agents import PartyAgent\n"
        "if TYPE_CHECKING:\n"
        "    from sim.front.figures import styled\n"
        "else:\n"
        "    import numpy\n"
        "def f():\n"
        "    from sim.experiment.results import CODE_VERSION\n"
        "    import hydra.core\n"
        "if __name__ == '__main__':\n"
        "    from sim.front.page import main\n"
        "if __name__ != '__main__':\n"
        "    import sim.front.cli\n"
        "from sim import __version__\n"
    )
    modules = {"core.war", "core.solutions", "engine.model", "engine.rounds", "engine.agents",
               "experiment.results", "front.plots", "front.page", "front.cli"}  # fmt: skip
    assert imports_of(source, modules) == {
        "typing": 1,
        "core.war": 2,
        "core.solutions": 2,
        "engine.model": 3,
        "engine.rounds": 4,
        "engine.agents": 5,
        "numpy": 9,
        "experiment.results": 11,
        "hydra": 12,
        "front.cli": 16,
        "__init__": 17,
    }


def test_a_config_import_below_the_experiment_layer_is_seen_in_a_fresh_interpreter():
    assert "omegaconf" in config_modules_after_importing(["sim.experiment.schema"])


# --- the code version: the modules that decide a result ---------------------------------------


def test_result_modules_are_the_engine_and_what_builds_a_replication():
    modules = provenance.result_modules()
    for name in ("engine.model", "core.war", "core.stability", "core.strategies"):
        assert name in modules
    for name in ("experiment.replication", "experiment.build", "experiment.designs"):
        assert name in modules
    # A job's rows: which replications run, their columns, a failed job's error message.
    for name in ("experiment.jobs", "experiment.results", "experiment.error_lines"):
        assert name in modules
    front = ("front.figures.negotiation", "front.hydra_main", "front.callbacks", "front.cli")
    for name in (*front, "analysis.tables", "__main__"):
        assert name not in modules
    assert modules == sorted(modules)


def test_code_version_ignores_edits_outside_the_result_modules(tmp_path):
    package = tmp_path / "sim"
    shutil.copytree(SIM, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = provenance.code_version(package)
    assert before == provenance.code_version()  # the same files, the same version

    with (package / "front" / "figures.py").open("a") as f:
        f.write("\n# an edit to a figure\n")
    assert provenance.code_version(package) == before

    with (package / "core" / "war.py").open("a") as f:
        f.write("\n# an edit to the war\n")
    assert provenance.code_version(package) != before


def fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package `sim` under tmp_path with the given modules (dotted name -> source) and
    the experiment layer's roots."""
    package = tmp_path / "sim"
    for name, text in files.items():
        path = package.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_a_module_imported_inside_a_function_counts(tmp_path):
    package = fake_package(
        tmp_path,
        {
            "experiment.replication": "def f():\n    from sim.core import helper\n",
            "core.helper": "import sim.core.deep\n",
            "core.deep": "",
            "front.unrelated": "from sim.experiment import replication\n",
        },
    )
    expected = ["core.deep", "core.helper", "experiment.replication"]
    assert provenance.result_modules(package) == expected


def test_imports_in_nested_statements_count_and_the_version_is_computed_once(tmp_path):
    package = fake_package(
        tmp_path,
        {
            "experiment.replication": (
                "class A:\n"
                "    def f(self):\n"
                "        try:\n"
                "            with open('x'):\n"
                "                from sim.core import helper\n"
                "        except ImportError:\n"
                "            import sim.core.deep\n"
                "x = [i for i in range(3)]\n"
            ),
            "core.helper": "",
            "core.deep": "",
        },
    )
    expected = ["core.deep", "core.helper", "experiment.replication"]
    assert provenance.result_modules(package) == expected
    assert provenance.CODE_VERSION == provenance.current_code_version() == provenance.code_version()
    assert provenance.current_code_version() is provenance.current_code_version()
    with pytest.raises(AttributeError, match="NO_SUCH"):
        provenance.NO_SUCH  # noqa: B018


def test_docs_layout_lists_every_module():
    """docs/layout.md, where a reader looks for a module, names each one under sim/."""
    text = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    modules = [p for p in SIM.rglob("*.py") if p.name != "__init__.py"]
    missing = sorted(str(p.relative_to(ROOT)) for p in modules if p.name not in text)
    assert not missing, f"modules docs/layout.md does not name: {missing}"
    assert len(modules) > 40
