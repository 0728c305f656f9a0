"""The notebooks: committed without outputs, and each runs top to bottom on a fresh sweep.

Execution uses nbclient with the `python3` kernel of the interpreter running the tests
(run them with `.venv/bin/python -m pytest`, as `./dev test` does); a test checks that
the kernel really is this interpreter. The smoke sweep the notebooks read is made once
per module in a temporary folder, with the command line users run, and handed to the
notebooks through `SIM_SWEEP_DIR`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_single_negotiation.ipynb",
    "02_sweep_analysis.ipynb",
    "03_scenarios.ipynb",
    "04_scorecard.ipynb",
}
TIMEOUT = 600  # seconds per cell, far above what any cell needs


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_the_notebooks_are_there():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or an execution count; clear them with "
        f"`jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}` (nbconvert) "
        "or Jupyter's Edit > Clear Outputs of All Cells"
    )
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_opens_with_a_parameters_cell(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown", "the notebook should say what it shows first"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell: the parameters"
    assert "os.environ.get(" in code[0].source, "parameters overridable from the environment"


@pytest.fixture(scope="module")
def smoke_sweep(tmp_path_factory) -> Path:
    """`python -m sim -m sweep=smoke` into a temporary results folder, once."""
    results = tmp_path_factory.mktemp("results")
    done = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "sweep=smoke", f"results_dir={results}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (
        f"smoke sweep failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    sweep = results / "sweeps" / "smoke"
    assert list((sweep / "jobs").glob("*.parquet")), f"no job files in {sweep}"
    return sweep


@pytest.fixture(scope="module")
def small_scorecard(tmp_path_factory) -> Path:
    """`python -m sim.front.validate` with few draws into a temporary results folder, once: the
    scorecard notebook reads it (never the user's results/)."""
    results = tmp_path_factory.mktemp("results")
    done = subprocess.run(
        [sys.executable, "-m", "sim.front.validate", "settings=4", "replications=2", "as_written=4",
         "bootstrap=100", f"results_dir={results}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"validate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    (folder,) = (results / "validation").iterdir()
    return folder


def _execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    return client.execute()


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_top_to_bottom(path: Path, smoke_sweep: Path, monkeypatch, request):
    monkeypatch.setenv("SIM_SWEEP_DIR", str(smoke_sweep))
    if path.name == "04_scorecard.ipynb":
        monkeypatch.setenv("SIM_VALIDATION_DIR", str(request.getfixturevalue("small_scorecard")))
    monkeypatch.setenv("SIM_ROOT", str(ROOT))
    nb = nbformat.read(path, as_version=4)
    # One cell more, in memory only: which interpreter ran the kernel.
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    try:
        _execute(nb)
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    assert not _errors(nb)
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve(), (
        f"the python3 kernel ran {printed}, not this interpreter {sys.executable}"
    )
    figures = sum(
        "image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", [])
    )
    assert figures >= 3, f"{path.name} showed {figures} figures"


@pytest.mark.slow
def test_sweep_notebook_says_how_to_make_a_missing_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_SWEEP_DIR", str(tmp_path / "no_such_sweep"))
    nb = nbformat.read(NOTEBOOK_DIR / "02_sweep_analysis.ipynb", as_version=4)
    with pytest.raises(CellExecutionError, match="FileNotFoundError") as info:
        _execute(nb)
    assert "./dev run -m sweep=smoke" in str(info.value)


@pytest.mark.slow
def test_sweep_notebook_says_plainly_when_a_sweep_separates_nothing(tmp_path, monkeypatch):
    """Two seeds of talks cut short before anyone can sign: no deal anywhere, so neither
    feature scores nor PRIM can say anything, and the conclusion says so and what to sweep."""
    done = subprocess.run(
        [sys.executable, "-m", "sim", "-m", "seed=0,1", "max_rounds=2", "sweep_name=flat",
         f"results_dir={tmp_path / 'results'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    monkeypatch.setenv("SIM_SWEEP_DIR", str(tmp_path / "results" / "sweeps" / "flat"))
    monkeypatch.setenv("SIM_ROOT", str(ROOT))
    nb = nbformat.read(NOTEBOOK_DIR / "02_sweep_analysis.ipynb", as_version=4)
    _execute(nb)
    shown = "\n".join(
        str(out.get("data", {}).get("text/markdown", "")) + str(out.get("text", ""))
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )
    assert "This sweep cannot separate anything: 2 replications, 0 with a binding deal" in shown
    assert "war.stake_years=1,1.5,2,3" in shown
    assert "no feature scores" in shown and "PRIM on `stable`**: no boxes" in shown
    assert "Read the box together" not in shown


def test_dev_notebooks_names_what_it_runs():
    from sim.front import notebooks

    assert [p.name for p in notebooks.notebook_paths(["02"])] == ["02_sweep_analysis.ipynb"]
    assert notebooks.notebook_paths(["01_single_negotiation.ipynb", "01"]) == [
        NOTEBOOK_DIR / "01_single_negotiation.ipynb"
    ]
    assert notebooks.notebook_paths([]) == NOTEBOOKS
    with pytest.raises(ValueError, match=r"^notebook: got '9'; allowed: one of \['01_"):
        notebooks.notebook_paths(["9"])


@pytest.mark.slow
def test_dev_notebooks_runs_one_headless_into_the_results_folder(tmp_path):
    """`./dev notebooks 01` executes a copy with its outputs under results/notebooks/ and
    leaves the committed notebook without outputs."""
    before = (NOTEBOOK_DIR / "01_single_negotiation.ipynb").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "sim.front.notebooks", "01", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    copy = tmp_path / "notebooks" / "01_single_negotiation.ipynb"
    assert f"-> {copy}" in done.stdout
    nb = nbformat.read(copy, as_version=4)
    assert any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    assert not _errors(nb)
    assert (NOTEBOOK_DIR / "01_single_negotiation.ipynb").read_bytes() == before
    bad = subprocess.run(
        [sys.executable, "-m", "sim.front.notebooks", "nope"], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error: notebook: got 'nope'")
