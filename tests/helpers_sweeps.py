"""Shared pieces for the sweep and results tests (test_sweeps.py, test_results.py).

- `Launch` / `SimRun`: `python -m sim ...` in a subprocess, started now and awaited later,
  so that several sweeps can run side by side; always with `results_dir=<tmp>` and an
  empty working directory, so nothing lands in the repository.
- `preset_jobs(name)`: the number of jobs a `conf/sweep/<name>.yaml` preset sweeps.
- `progress_lines`, `summary_line`, `skipped_jobs`: what a sweep printed, parsed.
- `comparable`, `assert_same_results`: two result frames compared, ignoring what
  legitimately differs between output folders (`sweep_name`, `results_dir=` in `overrides`).
- `RayHead`: a local Ray head on 127.0.0.1 in its own session, stopped by process id.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pandas as pd
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parent.parent
SWEEP_CONF = ROOT / "conf" / "sweep"
PYTHON = sys.executable
RAY = str(Path(PYTHON).with_name("ray"))

# "[3/8] job 0373e11664f97503 done, ETA 0:00:25" / "[8/8] job ... done, 0:00:06 elapsed"
PROGRESS = re.compile(
    r"^\[(?P<done>\d+)(?:/(?P<total>\d+))?\] job (?P<job>[0-9a-f]{16})(?:\.failed)? "
    r"(?P<what>done|already done, skipped|FAILED: .*?)"
    r"(?P<time>, ETA \d+:\d\d:\d\d|, \d+:\d\d:\d\d elapsed)?$",
    re.MULTILINE,
)
SUMMARY = re.compile(r"^sweep finished: .*$", re.MULTILINE)


def sim_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for `python -m sim`: ours, the repository importable, no full errors."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


@dataclass
class SimRun:
    """A finished `python -m sim` process."""

    args: list[str]
    results_dir: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def sweep_dir(self, name: str) -> Path:
        return self.results_dir / "sweeps" / name

    def describe(self) -> str:
        return (
            f"python -m sim {' '.join(self.args)} -> exit {self.returncode} in "
            f"{self.seconds:.0f}s\n--- stdout\n{self.stdout[-4000:]}\n--- stderr\n"
            f"{self.stderr[-4000:]}"
        )


class Launch:
    """`python -m sim <overrides> results_dir=<results_dir>`, started on construction."""

    def __init__(
        self,
        results_dir: Path,
        overrides: Sequence[str],
        env: dict[str, str] | None = None,
        timeout: float = 240.0,
    ) -> None:
        self.results_dir = Path(results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.cwd = Path(tempfile.mkdtemp(prefix="cwd-", dir=self.results_dir.parent))
        self.args = [*overrides, f"results_dir={self.results_dir}"]  # -m must come first
        self.timeout = timeout
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "sim", *self.args],
            cwd=self.cwd,
            env=sim_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._result: SimRun | None = None

    def result(self) -> SimRun:
        if self._result is None:
            try:
                out, err = self.proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, err = self.proc.communicate()
                err += f"\n[test harness: killed after {self.timeout:.0f}s]"
            self._result = SimRun(
                self.args,
                self.results_dir,
                self.proc.returncode,
                out,
                err,
                time.monotonic() - self.started,
            )
        return self._result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.result()


def run_sim(results_dir: Path, *overrides: str, env: dict[str, str] | None = None) -> SimRun:
    return Launch(results_dir, overrides, env).result()


def preset(name: str):
    return OmegaConf.load(SWEEP_CONF / f"{name}.yaml")


def preset_jobs(name: str) -> int:
    """Jobs of a basic-sweeper preset: the product of its sweep parameters' lengths."""
    params = preset(name).hydra.sweeper.params
    return math.prod(len(str(values).split(",")) for values in params.values())


def job_files(sweep_dir: Path) -> list[Path]:
    """The landed job files (successful and failed), as the sweep counts them."""
    return sorted((Path(sweep_dir) / "jobs").glob("*.parquet"))


def temp_files(folder: Path) -> list[Path]:
    """Temporary files of an atomic write (hidden, ending in .tmp), anywhere below."""
    return sorted(p for p in Path(folder).rglob(".*") if p.name.endswith(".tmp"))


def progress_lines(text: str) -> list[re.Match]:
    return list(PROGRESS.finditer(text))


def summary_line(text: str) -> str:
    found = SUMMARY.findall(text)
    assert len(found) == 1, f"expected one summary line, got {found}"
    return found[0]


def skipped_jobs(text: str) -> set[str]:
    return {m["job"] for m in progress_lines(text) if m["what"] == "already done, skipped"}


def ran_jobs(text: str) -> set[str]:
    return {m["job"] for m in progress_lines(text) if m["what"] == "done"}


def failed_jobs(text: str) -> set[str]:
    return {m["job"] for m in progress_lines(text) if m["what"].startswith("FAILED")}


_RESULTS_DIR_OVERRIDE = re.compile(r"(^| )results_dir=\S+")


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """A results frame without what legitimately depends on the output folder."""
    out = frame.drop(columns=["sweep_name"], errors="ignore")
    if "overrides" in out:
        out["overrides"] = out["overrides"].str.replace(_RESULTS_DIR_OVERRIDE, "", regex=True)
    return out


def assert_same_results(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(comparable(a), comparable(b), check_exact=True)


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together while choosing)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(n):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return ports


def _session_members(sid: int) -> list[int]:
    """Live (not zombie) process ids in session `sid`: the Ray head and all it started."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            state, session = fields[0], int(fields[3])  # fields 3 and 6 of proc(5)
            if session == sid and state != "Z":
                out.append(int(entry.name))
    return out


class RayHead:
    """`ray start --head --block` on 127.0.0.1 in a new session, with its own temp dir.

    `stop()` ends exactly the processes of that session, by id (not `ray stop`, which ends
    every Ray process of the user on the machine, other test runs' included).
    """

    ENV: ClassVar[dict[str, str]] = {"RAY_AUTH_MODE": "disabled"}

    def __init__(self, num_cpus: int = 2) -> None:
        self.port, client_port, agent_port = free_ports(3)
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short socket paths
        self.log = self.temp_dir.with_suffix(".log")
        options = [
            "--node-ip-address=127.0.0.1",
            f"--port={self.port}",
            f"--num-cpus={num_cpus}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={self.temp_dir}",
            f"--ray-client-server-port={client_port}",
            f"--dashboard-agent-listen-port={agent_port}",
        ]
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [RAY, "start", "--head", "--block", *options],
                env=sim_env(self.ENV),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 90.0) -> None:
        ready = wait_for(
            lambda: "block forever" in self.log_text() or self.proc.poll() is not None,
            timeout,
            interval=0.2,
        )
        if not ready or self.proc.poll() is not None:
            raise RuntimeError(f"Ray head did not start:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        # SIGKILL: on SIGTERM a Ray node drains for up to 30 s before it stops.
        sid = self.proc.pid
        for _ in range(3):
            for pid in _session_members(sid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if wait_for(lambda: not _session_members(sid), 3.0, interval=0.1):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.log.unlink(missing_ok=True)
