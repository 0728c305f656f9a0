"""A Hydra sweeper that packs the points of a sweep into a few jobs (`hydra/sweeper=packed`,
the default; `hydra/sweeper=basic` is Hydra's own, one job per point).

Hydra composes each job's config twice in the launching process (to validate it, then to
launch it), ~0.2 s a job: for short jobs that is most of a sweep's time. This sweeper
expands the same command line (and a preset's `hydra.sweeper.params`) into the same
points, groups them by their config-group choices (`scenario=...`), and launches a few
jobs per group, each with a list of points (in `<sweep dir>/.packs.json`). A job composes
once and derives each of its points' configs from its own by setting the point's values
(`apply_point`), which costs milliseconds; each point is then run, written and resumed
exactly as a job of its own (`sim.experiment.jobs.run_sweep_job`): same rows, same files.
"""

from __future__ import annotations

import copy
import json
import math
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

PACKS_FILE = ".packs.json"
# Packs per core by default: balance between cores against composing (a pack costs its worker
# ~0.2 s to compose; support_grid's 72 points end ~1 s sooner in 2 packs a core than in 4).
JOBS_PER_CORE = 2


@dataclass
class PackedSweeperConf:
    _target_: str = "hydra_plugins.sim_sweeper.packed_sweeper.PackedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None
    points_per_job: int | None = None  # None: about JOBS_PER_CORE jobs per core


def register() -> None:
    ConfigStore.instance().store(
        group="hydra/sweeper", name="packed", node=PackedSweeperConf, provider="sim"
    )


@dataclass(frozen=True)
class Pack:
    """Points that share their config-group choices: the job's overrides (the first
    point's) and each point's full overrides and the values that vary between points."""

    job: list[str]
    points: list[list[str]]
    varying: list[list[str]]


def pack_points(
    points: list[list[str]], groups: set[str], per_job: int | None, cores: int | None = None
) -> list[Pack]:
    """The points (each a list of `key=value` overrides, in the sweep's order) in packs of
    at most `per_job` (None: about `JOBS_PER_CORE` packs per core), never mixing config
    group choices; in each pack, the overrides that differ between its points."""
    per_job = per_job or max(1, math.ceil(len(points) / (JOBS_PER_CORE * (cores or 1))))
    by_groups: dict[tuple[str, ...], list[list[str]]] = {}
    for point in points:
        choice = tuple(o for o in point if o.lstrip("+~").split("=", 1)[0] in groups)
        by_groups.setdefault(choice, []).append(point)
    packs = []
    for members in by_groups.values():
        for start in range(0, len(members), per_job):
            chunk = members[start : start + per_job]
            varying = [[o for o in p if any(o not in q for q in chunk)] for p in chunk]
            packs.append(Pack(job=chunk[0], points=chunk, varying=varying))
    return packs


class PackedSweeper(Sweeper):
    """Hydra's basic sweeper's points (a cartesian product of the sweep overrides), run as
    a few packed jobs. (Not a subclass of Hydra's BasicSweeper: Hydra's plugin discovery
    loads that module a second time, and its `super()` calls then fail.)"""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        points_per_job: int | None = None,
    ) -> None:
        if points_per_job is not None and points_per_job < 1:
            raise ValueError(
                f"hydra.sweeper.points_per_job: got {points_per_job}; allowed: null or an "
                "integer >= 1"
            )
        self.params = dict(params or {})
        self.points_per_job = points_per_job
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        params = [f"{k}={v}" for k, v in self.params.items()]
        overrides = parser.parse_overrides([*params, *arguments])
        points = BasicSweeper.split_arguments(overrides, None)[0]
        groups = {
            o.key_or_group
            for o in overrides
            if "/" in o.key_or_group or loader.get_group_options(o.key_or_group)
        }
        packs = pack_points(points, groups, self.points_per_job, os.cpu_count())
        write_packs(Path(self.config.hydra.sweep.dir), packs)
        # Hydra's launcher says "Launching <packs> jobs": say what they hold first
        print(
            f"packed sweeper: the sweep's {len(points)} jobs (one per point) in "
            f"{len(packs)} packs; Hydra launches the packs",
            flush=True,
        )
        batch = [[*pack.job, f"sweep_pack={i}"] for i, pack in enumerate(packs)]
        results = self.launcher.launch(batch, initial_job_idx=0)
        for result in results:
            _ = result.return_value  # raises if a job raised (ours record their errors)
        return [results]


def write_packs(sweep_dir: Path, packs: list[Pack]) -> Path:
    """The packs as `<sweep dir>/.packs.json`, written atomically."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    path = sweep_dir / PACKS_FILE
    tmp = path.with_name(f".{PACKS_FILE}.{os.getpid()}.tmp")
    data = [{"points": p.points, "varying": p.varying} for p in packs]
    tmp.write_text(json.dumps({"packs": data}))
    tmp.replace(path)
    return path


def read_pack(sweep_dir: Path, index: int) -> list[tuple[list[str], list[str]]]:
    """Pack `index` of a sweep: (the point's overrides, its varying overrides) per point."""
    data = json.loads((Path(sweep_dir) / PACKS_FILE).read_text())["packs"][index]
    return list(zip(data["points"], data["varying"], strict=True))


def apply_point(cfg: DictConfig, varying: list[str], pickled: bytes | None = None) -> DictConfig:
    """The config of one point of a pack: a copy of the job's config with the point's
    values set as Hydra sets a command line's (`OmegaConf.update`, merging), and
    `sweep_pack` cleared. `pickled`: the job's config pickled once for all its points
    (unpickling is about twice as fast as a deep copy)."""
    parser = OverridesParser.create()
    point = copy.deepcopy(cfg) if pickled is None else pickle.loads(pickled)
    with open_dict(point):
        for text in varying:
            override = parser.parse_override(text)
            key = override.key_or_group
            if override.is_delete():
                parent, _, leaf = key.rpartition(".")
                node = OmegaConf.select(point, parent) if parent else point
                del node[leaf]
                continue
            OmegaConf.update(point, key, override.value(), merge=True)
        point.sweep_pack = None
    return point
