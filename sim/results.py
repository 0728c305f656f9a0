"""Writing and reading result tables (Parquet), atomically."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write `frame` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def staging_run_dir(results_dir: str | os.PathLike) -> tuple[Path, Path]:
    """A hidden staging folder for a single run and the final name it will take."""
    runs = Path(results_dir) / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return Path(tempfile.mkdtemp(prefix=f".{stamp}.", dir=runs)), runs / stamp


def publish_run_dir(staging: Path, final: Path) -> Path:
    """Rename the staging folder to its final name (atomic on one filesystem)."""
    os.replace(staging, final)
    return final
