"""A command's output folder (a run, the scorecard, the sensitivity analysis, the
forecast): checked writable before the work, written in a hidden staging folder, renamed
to its final name whole or removed (`run_folder`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class ResultsError(ValueError):
    """A results folder or file that cannot be read as asked."""


def check_writable(folder: str | os.PathLike) -> None:
    """Raise ResultsError unless `folder` could be created and written, leaving nothing
    behind (a probe folder is made and removed in its deepest existing parent)."""
    path = Path(folder).absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ResultsError(f"{folder}: cannot write results (Not a directory); set results_dir")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ResultsError(f"{folder}: cannot write results (Permission denied); set results_dir")
    try:  # access() trusts root and ignores read-only or virtual file systems: try it
        os.rmdir(tempfile.mkdtemp(prefix=".probe.", dir=existing))
    except OSError as exc:
        message = f"{folder}: cannot write results ({exc.strerror}); set results_dir"
        raise ResultsError(message) from exc


def runs_dir(results_dir: str | os.PathLike) -> Path:
    """Where single runs' folders go: `<results_dir>/runs`."""
    return Path(results_dir) / "runs"


def staging_run_dir(results_dir: str | os.PathLike) -> tuple[Path, Path]:
    """A hidden staging folder for a single run and the final name it will take."""
    return staging_folder(runs_dir(results_dir))


def staging_folder(root: Path, prefix: str = "") -> tuple[Path, Path]:
    """A hidden staging folder in `root` and the name it takes when whole,
    `<root>/<prefix><timestamp>` (a command's output folder: sensitivity, validation)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{prefix}{stamp}.", dir=root))
    except OSError as exc:
        raise ResultsError(
            f"{root}: cannot write results ({exc.strerror}); set results_dir"
        ) from exc
    return staging, root / f"{prefix}{stamp}"


def publish_run_dir(staging: Path, final: Path) -> Path:
    """Rename the staging folder to its final name (atomic on one filesystem)."""
    os.replace(staging, final)
    return final


@contextlib.contextmanager
def run_folder(root: Path, prefix: str = "") -> Iterator[tuple[Path, Path]]:
    """A command's output folder, whole or not at all: yields a hidden staging folder in
    `root` and the name it takes (`staging_folder`); renamed to it when the block ends,
    removed if the block raises (anything, an interrupt too)."""
    staging, final = staging_folder(root, prefix)
    try:
        yield staging, final
        publish_run_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
