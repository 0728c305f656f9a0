"""Writing and reading result tables (Parquet), atomically."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from sim.experiment.output_folders import ResultsError
from sim.experiment.provenance import current_code_version

# Every Parquet file written here carries a CRC checksum of each page (a Parquet feature),
# verified whenever it is read: a changed byte is an error naming the file, never a changed
# value (docs/troubleshooting.md).
WRITE_OPTIONS = {"write_page_checksum": True}
READ_OPTIONS = {"page_checksum_verification": True}
# results.parquet is written in row groups of about this many bytes: one write per job file
# costs ~4 ms whatever its size (sweeps of many small jobs), and a group this size is
# still a small part of a worker's memory
GATHER_GROUP_BYTES = 64 * 2**20


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Result rows as a frame whose text columns (every value a string or missing) are
    pandas' `str` dtype, missing as NaN: a job whose replications all end without a deal
    (its level columns all None) then reads back as a job with deals does."""
    frame = pd.DataFrame(rows)
    for column in [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c])]:
        values = frame[column].dropna()
        if values.map(lambda v: isinstance(v, str)).all():
            frame[column] = frame[column].astype("str")
    return frame


def rows_table(rows: list[dict[str, Any]], constant: dict[str, Any] | None = None) -> Any:
    """Result rows as an Arrow table, read back as `rows_frame` makes them (a column
    missing in every row is text), with `constant` columns added as given; a few times
    faster than through pandas for a short job's rows."""
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    for column, value in (constant or {}).items():
        table = table.append_column(column, pa.array([value] * table.num_rows))
    return table


def write_parquet_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write `frame` to `path` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
    try:
        frame.to_parquet(tmp, index=False, **WRITE_OPTIONS)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class JobFile:
    """A job's rows written in parts as its batches finish, then joined into its job file
    at `path` atomically (whole or not at all): a job holds one batch of rows at a time,
    however many replications it runs. Parts live in a hidden folder beside the job file;
    a killed job's are removed when the job runs again."""

    def __init__(self, path: str | os.PathLike, constant: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.constant = dict(constant or {})  # columns every row gets
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.path.parent.glob(f".{self.path.name}.*.parts"):
            shutil.rmtree(stale, ignore_errors=True)
        self.folder = Path(
            tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".parts", dir=self.path.parent)
        )
        self.parts: list[Path] = []
        self.by_point: dict[str, dict[int, Any]] = {}

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Write these rows as the next part."""
        if rows:
            import pyarrow.parquet as pq

            part = self.folder / f"{len(self.parts):06d}.parquet"
            pq.write_table(rows_table(rows, self.constant), part, **WRITE_OPTIONS)
            self.parts.append(part)

    def set_by_point(self, column: str, values: dict[int, Any]) -> None:
        """Give every row `column` = `values[its point]` when the parts are joined (a value
        known only once the job ends, such as the replications run at each point)."""
        self.by_point[column] = values

    def close(self) -> Path:
        """Join the parts into the job file (one part and nothing to set: renamed as is)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if not self.parts:
                write_parquet_atomic(pd.DataFrame(), self.path)
            elif len(self.parts) == 1 and not self.by_point:
                os.chmod(self.parts[0], 0o666 & ~_umask())
                os.replace(self.parts[0], self.path)
            else:
                schemas = [self._schema(pq.read_schema(part)) for part in self.parts]
                schema = schemas[0]  # the same columns throughout: one write's file
                if any(not other.equals(schema) for other in schemas):
                    # columns in another order, or all-null in a part without deals: the
                    # first part's order, each column's type the one every part fits
                    schema = pa.unify_schemas(schemas, promote_options="permissive")
                    schema = schema.remove_metadata()
                joined = self.folder / "joined.parquet"
                with pq.ParquetWriter(joined, schema, **WRITE_OPTIONS) as writer:
                    for part in self.parts:
                        writer.write_table(_conformed(self._table(part), schema))
                os.chmod(joined, 0o666 & ~_umask())
                os.replace(joined, self.path)
        finally:
            self.discard()
        return self.path

    def _schema(self, schema: Any) -> Any:
        """A part's schema with the columns `set_by_point` gives."""
        import pyarrow as pa

        for column, values in self.by_point.items():
            field = pa.field(column, pa.array(list(values.values())).type)
            at = schema.get_field_index(column)
            schema = schema.set(at, field) if at >= 0 else schema.append(field)
        return schema

    def _table(self, part: Path) -> Any:
        """A part's rows with the columns `set_by_point` gives."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(part, **READ_OPTIONS)
        points = table.column("point").to_pylist() if self.by_point else []
        for column, values in self.by_point.items():
            filled = pa.array([values[k] for k in points])
            at = table.schema.get_field_index(column)
            if at >= 0:
                table = table.set_column(at, column, filled)
            else:
                table = table.append_column(column, filled)
        return table

    def discard(self) -> None:
        """Remove the parts (after closing, or when the job failed)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


SWEEP_STATE = ".sweep.json"


def job_hash(cfg: Any) -> str:
    """16 hex digits of SHA-256 over the job's resolved config (output paths excluded) and
    the code version; the same for a config and its `sim.experiment.schema.plain` copy."""
    if isinstance(cfg, dict):  # a `sim.experiment.schema.PlainConfig`: resolved already
        data = dict(cfg)
    else:
        data = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    for key in ("results_dir", "sweep_name", "sweep_extend", "replication"):
        data.pop(key, None)
    data["__code__"] = current_code_version()
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def job_paths(
    sweep_dir: str | os.PathLike, cfg: Any, digest: str | None = None
) -> tuple[Path, Path]:
    """Where a job's rows go when it succeeds, and its error row when it fails; `digest`
    names the job instead of its `job_hash`."""
    jobs = Path(sweep_dir) / "jobs"
    digest = job_hash(cfg) if digest is None else digest
    return jobs / f"{digest}.parquet", jobs / f"{digest}.failed.parquet"


def read_job_rows(path: str | os.PathLike, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One job (or results) file, or only its `columns`; a corrupt or truncated file
    raises ResultsError naming it."""
    columns = None if columns is None else list(columns)
    return _tidy(_readable(path, lambda: pd.read_parquet(path, columns=columns, **READ_OPTIONS)))


def _readable(path: str | os.PathLike, read: Any) -> Any:
    """`read()` of a Parquet file, its failure a ResultsError naming the file."""
    try:
        return read()
    except Exception as exc:  # pyarrow raises several types for damaged files
        reason = " ".join(str(exc).split())  # pyarrow's messages span lines
        raise ResultsError(
            f"{path}: unreadable Parquet file ({type(exc).__name__}: {reason})"
        ) from exc


def job_score(path: str | os.PathLike) -> float:
    """A job file's mean stability score (what a search maximises), read from that column
    alone; ResultsError naming the file when it cannot be read."""
    return float(read_job_rows(path, ["stability_score"])["stability_score"].mean())


def write_error(path: str | os.PathLike, exc: OSError) -> ResultsError:
    """The one line for a write that failed (a full disk, a read-only folder), naming the
    path and the system's reason (pyarrow puts the errno in its message)."""
    code = exc.errno
    if code is None:
        found = re.search(r"\[errno (\d+)\]", str(exc))
        code = int(found.group(1)) if found else None
    reason = os.strerror(code) if code else (exc.strerror or str(exc))
    return ResultsError(
        f"{path}: cannot write results ({reason}); free space, make it writable or set results_dir"
    )


def _job_files(sweep_dir: Path) -> list[Path]:
    """The job files, one per job, by job: its rows, or its failure record if it has no
    rows (a record left beside rows that came later is stale: the job succeeded)."""
    files = {p.name: p for p in (sweep_dir / "jobs").glob("*.parquet")}
    current = [
        p
        for name, p in files.items()
        if not name.endswith(".failed.parquet")
        or name.replace(".failed.parquet", ".parquet") not in files
    ]
    return sorted(current, key=lambda p: p.name.split(".")[0])


def _checked_table(path: Path) -> Any:
    """A job file's rows, its page checksums verified and its `job` column its name's
    (a file copied over another job's is damage too)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, **READ_OPTIONS)
    job = path.name.split(".")[0]
    if "job" in table.column_names and table.num_rows:
        found = pc.unique(table.column("job")).to_pylist()
        if found != [job]:
            raise ResultsError(f"{path}: holds the rows of job {found[:3]}, not of job {job}")
    return table


def _gathered(
    sweep_dir: str | os.PathLike, on_error: str, damaged: list[str] | None = None
) -> tuple[Any, Iterator[Any]]:
    """The schema every job file fits and the files' rows as Arrow tables conformed to it,
    one file at a time, ordered by (job, replication): what `gather` and
    `gather_to_file` read, holding one job's rows at a time. A damaged file: `on_error`
    "raise" (ResultsError naming it), "skip" (a warning naming it) or "move" (to
    jobs/damaged/, its error appended to `damaged`: the end of a sweep, the lock held)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sweep_dir = Path(sweep_dir)
    if on_error not in ("raise", "skip", "move"):
        raise ValueError(f"on_error: got {on_error!r}; allowed: 'raise', 'skip' or 'move'")
    if not (sweep_dir / "jobs").is_dir():
        raise ResultsError(f"{sweep_dir}: not a sweep folder (no jobs/)")

    def read(path: Path, how: Any) -> Any:  # None when skipped
        try:
            return _readable(path, lambda: how(path))
        except ResultsError as exc:
            if on_error == "raise":
                raise
            if on_error == "move":
                from sim.experiment.sweepdir import move_damaged

                target = move_damaged(path)
                if damaged is not None:
                    damaged.append(f"{exc} (moved to {target})")
            else:
                warnings.warn(f"skipped {exc}", stacklevel=4)
            return None

    readable, schemas = [], []
    for path in _job_files(sweep_dir):
        found = read(path, pq.read_schema)
        if found is not None:
            readable.append(path)
            schemas.append(found)
    if not schemas:
        return pa.schema([]), iter(())
    schema = pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()
    if "error" not in schema.names:
        schema = schema.append(pa.field("error", pa.string()))

    def tables() -> Iterator[Any]:
        for path in readable:
            table = read(path, _checked_table)  # damaged beyond its footer: None
            if table is None:
                continue
            if "replication" in table.column_names:
                table = table.sort_by([("replication", "ascending")])
            yield _conformed(table, schema)

    return schema, tables()


def _conformed(table: Any, schema: Any) -> Any:
    """`table` with `schema`'s columns, in its order and types (nulls where it has none)."""
    import pyarrow as pa

    if table.schema.equals(schema):
        return table
    have = {f.name: f.type for f in table.schema}
    columns = [
        pa.nulls(table.num_rows, f.type)
        if f.name not in have
        else table.column(f.name)
        if have[f.name] == f.type
        else table.column(f.name).cast(f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as pandas: yes/no columns with missing values (failed jobs leave them empty)
    as pandas' nullable boolean, not objects."""
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].isna().any():
            values = frame[column].dropna()
            if len(values) and values.map(lambda v: isinstance(v, bool)).all():
                frame[column] = frame[column].astype("boolean")
    return frame


def gather(sweep_dir: str | os.PathLike, on_error: str = "raise") -> pd.DataFrame:
    """All job files of a sweep as one frame, ordered by (job, replication).

    on_error="raise" stops at a damaged job file and names it; "skip" leaves it out with a
    warning naming it. Never returns partial data silently.
    """
    import pyarrow as pa

    _, tables = _gathered(sweep_dir, on_error)
    found = list(tables)
    if not found:
        return pd.DataFrame()
    return _tidy(pa.concat_tables(found).to_pandas())


def gather_to_file(
    sweep_dir: str | os.PathLike, on_error: str = "raise", damaged: list[str] | None = None
) -> Path:
    """Gather the job files into `results.parquet`, atomically, in row groups of about
    `GATHER_GROUP_BYTES` (the memory of that or of the largest job, not of the sweep);
    `on_error`, `damaged`: `_gathered`'s."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(sweep_dir) / "results.parquet"
    schema, tables = _gathered(sweep_dir, on_error, damaged)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with pq.ParquetWriter(tmp, schema, **WRITE_OPTIONS) as writer:
            group: list[Any] = []
            size = 0
            for table in tables:
                group.append(table)
                size += table.nbytes
                if size >= GATHER_GROUP_BYTES:
                    writer.write_table(pa.concat_tables(group).combine_chunks())
                    group, size = [], 0
            if group:
                writer.write_table(pa.concat_tables(group).combine_chunks())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(
    path: str | os.PathLike, on_error: str = "raise", columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Results of a run folder, a sweep folder or a results file, as one DataFrame (a
    results file: only `columns`, if given).

    A sweep folder is read from its job files (so an unfinished sweep shows what has
    landed); `on_error` says what to do with a damaged job file (see `gather`).
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"{path}: no such file or folder")
    if path.is_file():
        return read_job_rows(path, columns)
    if (path / "jobs").is_dir():
        return gather(path, on_error)
    for name in ("results.parquet", "result.parquet"):
        if (path / name).is_file():
            return read_job_rows(path / name)
    raise ResultsError(
        f"{path}: not a run folder (result.parquet) or a sweep folder (jobs/, results.parquet)"
    )


# -- sweep progress and locking (written by sim.front.callbacks in the launching process) --------
OTHER_CODE = "other-code"  # jobs/other-code/<code version>/: job files made by other code


def job_code_version(path: Path) -> str | None:
    """The code version that wrote a job file (its `code_version` column), or None when
    the file has no such column or cannot be read."""
    import pyarrow.parquet as pq

    try:
        column = pq.read_table(path, columns=["code_version"], **READ_OPTIONS).column(0)
    except Exception:  # pyarrow raises several types for missing columns and damaged files
        return None
    return str(column[0].as_py()) if len(column) else None


def set_aside_other_code(sweep_dir: str | os.PathLike) -> int:
    """Move the job files written by another version of the simulator to
    jobs/other-code/<version>/ (`unknown` when a file does not say), so that a sweep
    folder's progress, results.parquet and summary speak of one code version; returns
    how many were moved. Damaged files stay, for `gather` to report."""
    moved = 0
    for path in _job_files(Path(sweep_dir)):
        version = job_code_version(path)
        if version == current_code_version():
            continue
        if version is None:
            try:
                read_job_rows(path)
            except ResultsError:
                continue  # damaged, not foreign: left for gather and the rerun to handle
        target = path.parent / OTHER_CODE / (version or "unknown")
        target.mkdir(parents=True, exist_ok=True)
        os.replace(path, target / path.name)
        moved += 1
    return moved


def start_sweep(
    sweep_dir: str | os.PathLike,
    total: int | None,
    definition: dict[str, Any] | None = None,
    extend: bool = False,
) -> list[str]:
    """Take the folder's lock (`sim.experiment.sweepdir.take_lock`), check the sweep's `definition`
    against the folder's (`sim.experiment.sweepdir.check_definition`; None: not checked), set aside
    job files made by other code, mend what a crash left (`sim.experiment.sweepdir.repair`) and
    record
    the sweep's size and start time. Returns what it did, in words, for the sweep to print.
    Raises ResultsError (one line) if the folder cannot be used; the lock is then let go."""
    from sim.experiment import sweepdir

    sweep_dir = Path(sweep_dir)
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        notes = sweepdir.take_lock(sweep_dir)
    except sweepdir.SweepFolderError as exc:
        raise ResultsError(str(exc)) from None
    except OSError as exc:
        raise ResultsError(
            f"{sweep_dir}: cannot write results ({exc.strerror}); set results_dir"
        ) from exc
    try:
        # other code's files first: they never count, whatever the folder's definition
        set_aside = set_aside_other_code(sweep_dir) if (sweep_dir / "jobs").is_dir() else 0
        if set_aside:
            where = sweep_dir / "jobs" / OTHER_CODE
            notes.append(f"set aside {set_aside} job files written by other code -> {where}")
        if definition is not None:
            note = sweepdir.check_definition(sweep_dir, definition, extend)
            notes += [note] if note else []
        notes += sweepdir.repair(sweep_dir, _footer_readable)
        state = {
            "total": total,
            "started": time.time(),
            "done_before": len(_job_files(sweep_dir)) if (sweep_dir / "jobs").is_dir() else 0,
            "notes": notes,
        }
        tmp = sweep_dir / f"{SWEEP_STATE}.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, sweep_dir / SWEEP_STATE)
    except sweepdir.SweepFolderError as exc:
        sweepdir.release_lock(sweep_dir)
        raise ResultsError(str(exc)) from None
    except OSError as exc:
        sweepdir.release_lock(sweep_dir)
        raise write_error(exc.filename or sweep_dir, exc) from exc
    except BaseException:
        sweepdir.release_lock(sweep_dir)
        raise
    return notes


def _footer_readable(path: Path) -> bool:
    """Whether a job file's footer reads (a cheap check at a sweep's start; its pages'
    checksums are verified when it is gathered)."""
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except Exception:  # pyarrow raises several types for damaged files
        return False
    return True


def end_sweep(sweep_dir: str | os.PathLike) -> None:
    """Let go of the folder's lock, if this process holds it."""
    from sim.experiment.sweepdir import release_lock

    release_lock(Path(sweep_dir))


def report_progress(sweep_dir: str | os.PathLike, message: str) -> None:
    """Print `[done/total] message, ETA` from the job files present and the start time."""
    sweep_dir = Path(sweep_dir)
    try:
        state = json.loads((sweep_dir / SWEEP_STATE).read_text())
    except (OSError, ValueError):
        state = {}
    done = len(_job_files(sweep_dir))
    total = state.get("total")
    eta = ""
    if total and state.get("started"):
        new = done - state.get("done_before", 0)
        elapsed = time.time() - state["started"]
        if new > 0 and total > done:
            eta = f", ETA {clock(elapsed / new * (total - done))}"
        elif total <= done:
            eta = f", {clock(elapsed)} elapsed"
    shown = f"{done}/{total}" if total else f"{done}"
    print(f"[{shown}] {message}{eta}", flush=True)


def clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
