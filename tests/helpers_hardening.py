"""Shared pieces of the hardening tests: running `python -m sim` in subprocesses, smoke
sweeps, comparing result frames, minimal configs for numerical edge cases."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from sim.experiment.schema import SimConfig
from tests.helpers_model import with_default_capacities

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"
TIMEOUT = 600  # seconds for one `python -m sim` process (the machine may be busy)

SMOKE = ("-m", "sweep=smoke")  # 8 jobs x 2 replications
SMOKE_JOBS, SMOKE_REPLICATIONS = 8, 2

# Columns that hold results (not parameters): compared row by row across runs.
RESULT_COLUMNS = (
    "agreement",
    "binding",
    "reason",
    "round",
    "walked_out",
    "outcome",
    "framework_outcome",
    "contact_line",
    "p_share",
    "zopa_size",
    "nash_outcome",
    "kalai_smorodinsky_outcome",
    "dist_nash",
    "dist_ks",
)
STABILITY_COLUMNS = (
    "ir_margin",
    "pareto_gap",
    "blocking_coalitions",
    "blocking_surplus",
    "robustness",
    "durability",
    "renewed_war_share",
    "powell_violations",
    "max_power_shift",
    "stable",
    "stability_score",
)


def result_columns(frame: pd.DataFrame) -> list[str]:
    """The result columns of `frame`: outcome, per-party utilities and BATNAs, stability."""
    parties = [
        c.removeprefix("reservation_") for c in frame.columns if c.startswith("reservation_")
    ]
    assert parties, sorted(frame.columns)
    cols = [*RESULT_COLUMNS, *STABILITY_COLUMNS]
    cols += [f"u_{p}" for p in parties] + [f"reservation_{p}" for p in parties]
    missing = [c for c in cols if c not in frame.columns]
    assert not missing, f"missing result columns {missing}"
    return cols


# --- running the CLI ------------------------------------------------------------------------


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a `python -m sim` child: no inherited HYDRA_FULL_ERROR."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    env.update(extra or {})
    return env


@dataclass
class CliRun:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def show(self) -> str:
        return (
            f"{self.args}\nexit {self.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def sim_command(args: Iterable[str]) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def start_sim(
    args: Sequence[str], env: Mapping[str, str] | None = None, new_session: bool = False
) -> subprocess.Popen:
    """Start `python -m sim <args>` in the repository (cwd), output captured."""
    return subprocess.Popen(
        sim_command(args),
        cwd=ROOT,
        env=cli_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


def finish(proc: subprocess.Popen, timeout: float = TIMEOUT) -> CliRun:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return CliRun(list(map(str, proc.args))[3:], proc.returncode, out, err)


def run_sim(args: Sequence[str], env: Mapping[str, str] | None = None) -> CliRun:
    return finish(start_sim(args, env))


def run_many(
    commands: Mapping[str, tuple[Sequence[str], Mapping[str, str] | None]], workers: int = 4
) -> dict[str, CliRun]:
    """Run several `python -m sim` commands, a few at a time; name -> CliRun."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(run_sim, args, env) for name, (args, env) in commands.items()}
        return {name: future.result() for name, future in futures.items()}


# --- files ----------------------------------------------------------------------------------


def files_under(path: Path) -> list[Path]:
    """Every regular file below `path` (hidden ones included); [] if it does not exist."""
    return sorted(p for p in Path(path).rglob("*") if p.is_file()) if Path(path).exists() else []


def temp_files_under(path: Path) -> list[Path]:
    """Hidden temporary files (`.*.tmp`) anywhere below `path`."""
    return sorted(p for p in Path(path).rglob(".*.tmp"))


def sweep_dir(results_dir: Path, name: str = "smoke") -> Path:
    return Path(results_dir) / "sweeps" / name


def job_files(sweep: Path) -> list[Path]:
    return sorted((sweep / "jobs").glob("*.parquet"))


def run_result(results_dir: Path) -> pd.DataFrame:
    """The result.parquet of the only single run under `results_dir`."""
    found = sorted((Path(results_dir) / "runs").glob("*/result.parquet"))
    assert len(found) == 1, found
    return pd.read_parquet(found[0])


def run_trace(results_dir: Path) -> pd.DataFrame:
    (found,) = sorted((Path(results_dir) / "runs").glob("*/trace.parquet"))
    return pd.read_parquet(found)


def comparable(frame: pd.DataFrame, results_dir: Path | None = None) -> pd.DataFrame:
    """A result frame ready to compare across runs: sorted by (job, replication), with the
    run's own `results_dir=` override removed from `overrides` (it names a temp folder)."""
    frame = frame.copy()
    if "overrides" in frame:
        frame["overrides"] = frame["overrides"].map(strip_output_overrides)
    if {"job", "replication"} <= set(frame.columns):
        frame = frame.sort_values(["job", "replication"], kind="stable")
    return frame.reset_index(drop=True)


def strip_output_overrides(overrides: str) -> str:
    """A row's `overrides` without the output-location overrides (results_dir, sweep_name)."""
    keep = [
        o
        for o in overrides.split()
        if not o.lstrip("+~").startswith(("results_dir=", "sweep_name="))
    ]
    return " ".join(keep)


def assert_every_row_once(frame: pd.DataFrame, jobs: int, replications: int) -> None:
    """`frame` holds each (job, replication) exactly once, for `jobs` jobs, no failures."""
    assert "error" not in frame or frame["error"].isna().all(), frame.get("error")
    keys = list(zip(frame["job"], frame["replication"], strict=True))
    assert len(keys) == len(set(keys)), pd.Series(keys).value_counts().head()
    assert frame["job"].nunique() == jobs
    assert sorted(frame["replication"].unique().tolist()) == list(range(replications))
    assert len(frame) == jobs * replications


# --- a smoke sweep run once per test session (the reference the other runs must match) ----

_REFERENCE: dict[str, tuple[Path, CliRun]] = {}


def reference_smoke_sweep(tmp_path_factory: Any) -> tuple[Path, CliRun]:
    """`python -m sim -m sweep=smoke` into a fresh results_dir, once per session."""
    if "smoke" not in _REFERENCE:
        results = tmp_path_factory.mktemp("reference_smoke")
        run = run_sim([*SMOKE, f"results_dir={results}"])
        assert run.returncode == 0, run.show()
        _REFERENCE["smoke"] = (results, run)
    return _REFERENCE["smoke"]


def copy_sweep(src_results: Path, dst_results: Path) -> Path:
    """A copy of a results_dir holding a finished smoke sweep; the copy's sweep folder."""
    shutil.copytree(src_results, dst_results)
    return sweep_dir(dst_results)


# --- minimal configs for the numerical edge cases -----------------------------------------


def minimal_config(
    parties: Mapping[str, Mapping[str, Any]],
    issues: Mapping[str, Mapping[str, Any]],
    territory_issue: str,
    **top: Any,
) -> DictConfig:
    """A config merged onto the bare schema: the given parties and issues, the first two
    parties as aggressor and defender (capacities 1.0 and 0.3; phase-one pair), no
    supporters, the first party mediating, no guarantees issue, small stability samples."""
    names = list(parties)
    data: dict[str, Any] = {
        "scenario_name": "edge",
        "max_rounds": 12,
        "mediator": names[0],
        "phase_one_parties": names[:2],
        "phase_one_rounds": 2,
        "issues": dict(issues),
        "parties": dict(parties),
        "war": {"territory_issue": territory_issue, "aggressor": names[0], "defender": names[1]},
        "stability": {
            "guarantees_issue": None,
            "robustness_draws": 8,
            "durability_paths": 4,
            "durability_periods": 6,
        },
    }
    data.update(top)
    return with_default_capacities(OmegaConf.merge(OmegaConf.structured(SimConfig), data))


# --- a sweep folder's lock held by another process ----------------------------------------

HOLD_LOCK = (
    "import sys; from pathlib import Path; from sim.experiment import sweepdir; "
    "sweepdir.take_lock(Path(sys.argv[1])); print('held', flush=True); sys.stdin.read()"
)


@contextlib.contextmanager
def lock_held_by_another_process(folder: Path) -> Iterator[subprocess.Popen]:
    """A real second process holding `folder`'s sweep lock until the block ends (then
    killed, as a crashed sweep would be: the OS lets go of its lock)."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(folder)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.communicate()  # and closes its pipes
