"""`./dev notebooks [name ...]`: the analysis notebooks run top to bottom without Jupyter, as
the tests run them (nbclient, the python3 kernel of this interpreter); each executed copy,
with its figures and tables, goes to `<results_dir>/notebooks/`, never over the notebooks
themselves (they are kept without outputs)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
TIMEOUT = 1800  # seconds per cell: a real sweep's PRIM can take minutes


def notebook_paths(names: Sequence[str]) -> list[Path]:
    """The notebooks named (a file name, with or without `.ipynb`, or its number prefix
    such as `02`), or every one; ValueError naming the ones that are not there."""
    every = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        found = [p for p in every if p.stem == name.removesuffix(".ipynb") or p.stem[:2] == name]
        if not found:
            allowed = [p.stem for p in every]
            raise ValueError(f"notebook: got {name!r}; allowed: one of {allowed} (or its number)")
        chosen += [p for p in found if p not in chosen]
    return chosen


def run_notebook(path: Path, out_dir: Path) -> Path:
    """Execute `path` in a fresh kernel (working folder: notebooks/) and write the executed
    copy to `out_dir`; the copy is written even when a cell fails, then the error raised."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    where = {"metadata": {"path": str(path.parent)}}
    client = NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3", resources=where)
    out = out_dir / path.name
    try:
        client.execute()
    finally:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev notebooks", description=__doc__)
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all), e.g. 02")
    parser.add_argument(
        "--results-dir",
        default=os.environ.get("SIM_RESULTS_DIR", "results"),
        help="where executed copies go, under notebooks/ (default: %(default)s)",
    )
    options = parser.parse_args(argv)
    try:
        paths = notebook_paths(options.names)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("SIM_ROOT", str(ROOT))
    os.environ.setdefault("MPLBACKEND", "Agg")
    out_dir = Path(options.results_dir).resolve() / "notebooks"
    failed = 0
    for path in paths:
        started = time.monotonic()
        try:
            out = run_notebook(path, out_dir)
        except Exception as exc:  # a failing cell: say which notebook and why, go on
            failed += 1
            first = str(exc).strip().splitlines()
            why = next((line for line in reversed(first) if line.strip()), type(exc).__name__)
            print(f"{path.name}: FAILED ({why}); its copy: {out_dir / path.name}", flush=True)
            continue
        print(f"{path.name}: ran in {time.monotonic() - started:.0f} s -> {out}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
