"""Where a result comes from: the modules that decide a result (the replication, the
scenario built from the config, the design and whatever they import) and the code version,
a hash of their source. Results made by other code do not count as done when a sweep is
resumed (`sim.experiment.results.set_aside_other_code`)."""

from __future__ import annotations

import ast
import functools
import hashlib
import os
from pathlib import Path

# Where a result comes from: the replication, the scenario built from the config, the design.
# What makes a job's rows: which replications run and their columns (jobs), their draws,
# negotiation and measures (replication), the scenario (scenario, designs). Modules are
# named by their path under sim/, dotted (`experiment.jobs`).
RESULT_ROOTS = (
    "experiment.jobs",
    "experiment.replication",
    "experiment.build",
    "experiment.designs",
)


PACKAGE_DIR = Path(__file__).resolve().parents[1]  # sim/


def package_modules(folder: Path) -> dict[str, Path]:
    """Every module under `folder` (the sim package), by its dotted name under it."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            found[".".join(path.relative_to(folder).with_suffix("").parts)] = path
    return found


def _imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that `path` imports: every import statement, inside
    functions too, except under `if TYPE_CHECKING:` (never run)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        test = node.test if isinstance(node, ast.If) else None
        if isinstance(test, ast.Name | ast.Attribute) and "TYPE_CHECKING" in (
            getattr(test, "id", None),
            getattr(test, "attr", None),
        ):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(filter(None, ["sim", node.module])) if node.level else node.module
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            names = []
        for name in names:
            parts = name.split(".")
            if parts[0] != "sim":
                continue
            for end in range(len(parts), 1, -1):  # the longest prefix that is a module
                if (module := ".".join(parts[1:end])) in modules:
                    found.add(module)
                    break
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr):  # imports are statements: skip expressions
                visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def result_modules(package_dir: str | os.PathLike | None = None) -> list[str]:
    """The simulator's modules that decide a result, sorted: `RESULT_ROOTS` and every sim
    module they import, directly or not (module- or function-level imports)."""
    folder = Path(package_dir) if package_dir is not None else PACKAGE_DIR
    modules = package_modules(folder)
    seen: set[str] = set()
    todo = [name for name in RESULT_ROOTS if name in modules]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_imported_modules(modules[name], set(modules)) - seen)
    return sorted(seen)


def code_version(package_dir: str | os.PathLike | None = None) -> str:
    """12 hex digits of SHA-256 over the source of `result_modules`: results made by other
    code do not count as done when a sweep is resumed; an edit elsewhere (plots, the
    command line, error messages) does not set finished jobs aside."""
    folder = Path(package_dir) if package_dir is not None else PACKAGE_DIR
    digest = hashlib.sha256()
    modules = package_modules(folder)
    for name in result_modules(folder):
        digest.update(name.encode())
        digest.update(modules[name].read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def current_code_version() -> str:
    """This code's `code_version`, computed once, when first needed (parsing the modules
    takes ~0.3 s, which importing this module, as the page does, should not pay)."""
    return code_version()


def __getattr__(name: str) -> str:
    if name == "CODE_VERSION":  # kept for readers of results; the value is computed lazily
        return current_code_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
