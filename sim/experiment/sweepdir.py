"""A sweep folder that never lies (docs/troubleshooting.md): one sweep definition per
folder, a lock the operating system releases when its holder dies, repairs of every state
a crash can leave, and a watchdog that ends a sweep's workers when its launcher is gone.

The lock is an advisory `flock` on `<sweep dir>/.lock` (released by the kernel when the
process holding it ends, however it ends; on NFS, Linux maps it to a POSIX record lock,
which the server shares between hosts). The file holds its holder's host, pid and process
start time, for messages and for the workers' watchdog. The holder removes the file before
letting go; a contender that locked a file just removed checks that it still is the file
at that path, so two processes never both hold the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LOCK = ".lock"
DEFINITION = "sweep-definition.json"
DAMAGED = "damaged"  # jobs/damaged/: job files that failed their checks, kept for inspection
LAUNCHER_ENV = "SIM_SWEEP_LAUNCHER"  # the launcher's identity, for its workers' watchdog
# Keys that say where results go or how the sweep grows, not what a job computes.
OUTPUT_KEYS = frozenset({"results_dir", "sweep_name", "sweep_extend"})
WATCH_INTERVAL = 0.5  # seconds between a worker's checks that its launcher is alive


class SweepFolderError(Exception):
    """A sweep folder that cannot be used as asked; `sim.experiment.results.ResultsError` wraps
    it."""


def process_started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), or None if there is no such
    process: with the pid it names one process, never a later one given the same pid."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # ended, not yet waited for
            return None
        return round(process.create_time(), 2)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:  # alive, not ours to inspect
        return -1.0


@dataclass(frozen=True)
class Holder:
    """Who holds a sweep folder's lock."""

    host: str
    pid: int
    started: float | None

    @classmethod
    def me(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), process_started(os.getpid()))

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(str(data["host"]), int(data["pid"]), data.get("started"))
        except (ValueError, KeyError, TypeError):
            return None

    def text(self) -> str:
        return json.dumps(asdict(self))

    def describe(self) -> str:
        since = (
            time.strftime(", since %Y-%m-%d %H:%M:%S", time.localtime(self.started))
            if self.started and self.started > 0
            else ""
        )
        return f"pid {self.pid} on {self.host}{since}"

    def alive(self) -> bool | None:
        """Whether this process still runs: None when it is on another host (unknown)."""
        if self.host != socket.gethostname():
            return None
        started = process_started(self.pid)
        return started is not None and (
            self.started is None or started < 0 or abs(started - self.started) < 1.0
        )


_HELD: dict[Path, int] = {}  # sweep folder -> the open lock file's descriptor


def take_lock(sweep_dir: Path) -> list[str]:
    """Hold `sweep_dir`'s lock until `release_lock` (or this process ends). Raises
    SweepFolderError naming the holder if another process holds it; returns what was
    repaired on the way (a `.lock` that is a folder is moved aside)."""
    sweep_dir = Path(sweep_dir)
    path = sweep_dir / LOCK
    repaired = []
    if sweep_dir.resolve() in _HELD:
        raise SweepFolderError(
            f"{sweep_dir}: another sweep ({Holder.me().describe()}, this process) is writing "
            "here; wait for it or choose another sweep_name"
        )
    if path.is_dir() and not path.is_symlink():
        aside = sweep_dir / f"{LOCK}.folder.{time.strftime('%Y%m%d-%H%M%S')}.{os.getpid()}"
        try:
            os.replace(path, aside)
            repaired.append(f"moved a folder named {LOCK} (not a lock) to {aside.name}")
        except FileNotFoundError:
            pass  # another contender moved it
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _current_holder(fd)
            os.close(fd)
            who = holder.describe() if holder else "starting"
            raise SweepFolderError(
                f"{sweep_dir}: another sweep ({who}) is writing here; wait for it or "
                "choose another sweep_name"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its holder removed it as we locked it: try the new file
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.pwrite(fd, Holder.me().text().encode(), 0)
        _HELD[sweep_dir.resolve()] = fd
        return repaired
    raise SweepFolderError(f"{sweep_dir}: could not take the lock {path}; try again")


def _current_holder(fd: int, wait: float = 0.5) -> Holder | None:
    """The holder a locked file names: its holder writes itself in just after locking, so
    an empty file or one naming a dead process is read again for up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        holder = Holder.parse(_read(fd))
        if (holder is not None and holder.alive() is not False) or time.monotonic() > deadline:
            return holder
        time.sleep(0.02)


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode(errors="replace")
    except OSError:
        return ""


def release_lock(sweep_dir: Path) -> None:
    """Remove and let go of the lock this process holds on `sweep_dir` (if any)."""
    fd = _HELD.pop(Path(sweep_dir).resolve(), None)
    if fd is None:
        return
    with contextlib.suppress(OSError):
        (Path(sweep_dir) / LOCK).unlink(missing_ok=True)
    os.close(fd)  # lets go of the flock


def lock_holder(sweep_dir: Path) -> Holder | None:
    """The holder named in `sweep_dir`'s lock file, if the file is there and names one."""
    try:
        return Holder.parse((Path(sweep_dir) / LOCK).read_text())
    except OSError:
        return None


# -- one sweep definition per folder -------------------------------------------------------


def sweep_definition(
    task_overrides: list[str],
    preset_params: dict[str, Any] | None,
    code_version: str,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a sweep computes: each key's value (a sweep's values as a list) after its
    preset's `hydra.sweeper.params` and the command line (which wins), output keys left
    out; a digest of its `settings` (the composed config every job starts from, which holds
    the preset's constants and the scenario's and defaults' values); the code version."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    values: dict[str, Any] = {}
    texts = [f"{k}={v}" for k, v in (preset_params or {}).items()] + list(task_overrides)
    for text in texts:
        override = parser.parse_override(text)
        key = override.key_or_group
        if key in OUTPUT_KEYS:
            continue
        if override.is_discrete_sweep():
            values[key] = sorted(override.sweep_string_iterator())  # a set of points
        elif override.is_sweep_override():  # a search space (interval): its text
            values[key] = text.split("=", 1)[1].strip()
        elif override.is_delete():
            values[key] = "<deleted>"
        else:
            values[key] = override.get_value_element_as_str()
    digest = None
    if settings is not None:
        kept = {k: v for k, v in settings.items() if k not in OUTPUT_KEYS and k != "hydra"}
        text = json.dumps(kept, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return {
        "values": dict(sorted(values.items())),
        "settings": digest,
        "code_version": code_version,
    }


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    return ",".join(value) if isinstance(value, list) else str(value)


SETTINGS_CHANGED = (
    "the settings behind the same command line (a preset's or scenario's file, or conf/)"
)


def definition_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two definitions' values, key by key ("k (a then, b now)"),
    and whether the settings behind them differ."""
    a, b = old.get("values", {}), new.get("values", {})
    changes = [
        f"{key} ({_shown(a.get(key))} then, {_shown(b.get(key))} now)"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]
    if not changes and old.get("settings") != new.get("settings"):
        changes.append(SETTINGS_CHANGED)
    return changes


def extension_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why `new` does not only add points to `old`: a key set, unset or changed, or a swept
    key that lost values (an extension may only give swept keys more values)."""
    a, b = old.get("values", {}), new.get("values", {})
    problems = []
    for key in sorted(set(a) | set(b)):
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        if isinstance(before, list) and isinstance(after, list) and set(before) <= set(after):
            continue
        problems.append(f"{key} ({_shown(before)} then, {_shown(after)} now)")
    if old.get("settings") != new.get("settings") and not problems:
        problems.append(SETTINGS_CHANGED)
    return problems


def check_definition(sweep_dir: Path, definition: dict[str, Any], extend: bool) -> str | None:
    """Record `definition` as the folder's, or check it against the one recorded: the same
    values resume; with `extend`, more values of swept keys add points; anything else is
    refused (SweepFolderError naming what differs). A new code version replaces the
    recorded one (the other code's job files are set aside, never mixed). Returns a note for
    the sweep's messages, or None."""
    path = Path(sweep_dir) / DEFINITION
    note = None
    if path.exists():
        try:
            old = json.loads(path.read_text())
            old["values"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SweepFolderError(
                f"{path}: unreadable sweep definition ({exc}); allowed: a new sweep_name, or "
                "delete the folder to start it again"
            ) from None
        changes = definition_changes(old, definition)
        if changes and not extend:
            raise SweepFolderError(
                f"{sweep_dir}: holds another sweep (it differs in {'; '.join(changes)}); "
                "allowed: the same sweep (to resume it), another sweep_name (a new folder), or "
                "sweep_extend=true (to add values to the swept keys)"
            )
        if changes:
            problems = extension_problems(old, definition)
            if problems:
                raise SweepFolderError(
                    f"sweep_extend: got a sweep that changes {'; '.join(problems)}; allowed: "
                    "more values of the keys already swept, every other key as before"
                )
            note = f"sweep extended: {'; '.join(changes)}"
        if not changes and old.get("code_version") == definition.get("code_version"):
            return None
    elif _has_job_files(Path(sweep_dir)):
        raise SweepFolderError(
            f"{sweep_dir}: has job files but no {DEFINITION} (written by an older version or "
            "damaged), so what they hold is unknown; allowed: another sweep_name, or delete "
            "the folder to start it again"
        )
    tmp = path.with_name(f".{DEFINITION}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**definition, "recorded": time.time()}, indent=1))
    os.replace(tmp, path)
    return note


def _has_job_files(sweep_dir: Path) -> bool:
    jobs = sweep_dir / "jobs"
    return jobs.is_dir() and any(jobs.glob("*.parquet"))


# -- repairs at the start of a sweep (the lock held) ---------------------------------------


def repair(sweep_dir: Path, readable: Any) -> list[str]:
    """Mend what a crash (or a hand) can leave in `sweep_dir`, the lock held: temporary
    files and a killed job's parts (removed), a failure record beside its job's finished
    file (removed: the job succeeded later), job files that cannot be read (`readable(path)`
    false: moved to jobs/damaged/, their jobs run again). Returns what was done, in words."""
    sweep_dir = Path(sweep_dir)
    jobs = sweep_dir / "jobs"
    notes = []
    for folder in (sweep_dir, jobs):
        for stale in folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
    if not jobs.is_dir():
        return notes
    for parts in jobs.glob(".*.parts"):
        shutil.rmtree(parts, ignore_errors=True)
    stale_failures = [
        path
        for path in jobs.glob("*.failed.parquet")
        if (jobs / path.name.replace(".failed.parquet", ".parquet")).exists()
    ]
    for path in stale_failures:
        path.unlink(missing_ok=True)
    if stale_failures:
        notes.append(f"removed {len(stale_failures)} failure records of jobs that finished later")
    damaged = [path for path in sorted(jobs.glob("*.parquet")) if not readable(path)]
    for path in damaged:
        move_damaged(path)
    if damaged:
        notes.append(
            f"moved {len(damaged)} unreadable job files to {jobs / DAMAGED} (their jobs run "
            "again if this sweep has them)"
        )
    return notes


def move_damaged(path: Path) -> Path:
    """Move a damaged job file to jobs/damaged/ (never deleted: kept for inspection)."""
    folder = path.parent / DAMAGED
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}"
    os.replace(path, target)
    return target


# -- no worker outlives its sweep ----------------------------------------------------------

REAP_INTERVAL = 0.25  # seconds between the reaper's looks at the launcher's processes
_REAPER: list[subprocess.Popen] = []
_WATCHING: list[threading.Thread] = []


def start_reaper() -> subprocess.Popen | None:
    """Start, once per launcher, a small process of its own session that notes the
    launcher's descendants every `REAP_INTERVAL` seconds and, when the launcher ends
    (however: killed, out of memory, done), kills those still running: workers busy with a
    job, idle or still starting (a worker's own watchdog, `watch_launcher`, sees only the
    first kind). Its output goes nowhere, so it holds none of the launcher's pipes."""
    if _REAPER:
        return _REAPER[0]
    me = Holder.me()
    code = f"from sim.experiment.sweepdir import reap; reap({me.pid}, {me.started!r})"
    reaper = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # not in the launcher's group: outlives it to clean up
        cwd=Path(__file__).resolve().parents[2],  # the project, where `sim` imports from
    )
    _REAPER.append(reaper)
    return reaper


def reap(pid: int, started: float | None) -> None:
    """The reaper's loop (`start_reaper`): until process `pid` (started at `started`) ends,
    note its descendants; then kill those noted that still run (the same processes: a pid
    reused since is left alone)."""
    import psutil

    launcher = Holder(socket.gethostname(), pid, started)
    noted: dict[int, float] = {}
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while launcher.alive():
        try:
            for child in parent.children(recursive=True):
                if child.pid != os.getpid():
                    noted.setdefault(child.pid, child.create_time())
        except psutil.NoSuchProcess:
            break
        time.sleep(REAP_INTERVAL)
    for child_pid, created in noted.items():
        try:
            child = psutil.Process(child_pid)
            if abs(child.create_time() - created) < 0.01:
                child.kill()
        except psutil.Error:
            pass


def watch_launcher() -> bool:
    """In a sweep's worker process on the launcher's host (joblib, submitit_local), end
    this process within `WATCH_INTERVAL` seconds of the launcher's end, however it ended
    (killed, out of memory): its jobs' rows would belong to no running sweep. Started once
    per process; does nothing in the launcher itself or elsewhere. Whether it watches."""
    if _WATCHING:
        return True
    launcher = Holder.parse(os.environ.get(LAUNCHER_ENV, ""))
    if launcher is None or launcher.pid == os.getpid() or launcher.alive() is None:
        return False

    def watch() -> None:
        while launcher.alive():
            time.sleep(WATCH_INTERVAL)
        print(
            f"the sweep's launcher ({launcher.describe()}) is gone: this worker "
            f"(pid {os.getpid()}) stops",
            flush=True,
        )
        os._exit(1)

    thread = threading.Thread(target=watch, name="sweep-launcher-watchdog", daemon=True)
    thread.start()
    _WATCHING.append(thread)
    return True
