"""Shared fixtures: Hypothesis settings and composing the Hydra config in-process."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import hydra
import pytest
from hydra.core.global_hydra import GlobalHydra
from hypothesis import settings
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.experiment.schema import register_configs

ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = ROOT / "conf"

# The tests never read or write the user's results/: every run, sweep and the page's Sweeps
# tab use this session's own folder, through SIM_RESULTS_DIR (conf/config.yaml's
# `results_dir`, `sim.front.page_sweeps.RESULTS_DIR`), set before anything reads it; test
# subprocesses inherit it (tests/test_isolation.py).
RESULTS_DIR = Path(tempfile.mkdtemp(prefix="sim-tests-results-"))
os.environ["SIM_RESULTS_DIR"] = str(RESULTS_DIR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(RESULTS_DIR, ignore_errors=True)


# Modest runs keep the whole suite fast; no deadline, since the first call of a test
# pays for imports and numpy warm-up.
settings.register_profile("sim", max_examples=100, deadline=None)
settings.load_profile("sim")


# Issue 27's defaults, and the Russia-Ukraine scenarios' red lines, before it (docs/
# calibration.md, "Red lines, public commitments and ratification"): the model before
# self-enforcing settlements, hopeful parties and the imposable lottery; Ukraine's J veto
# above 80 on territory, no ratifier, no commitment of Russia's, its guarantee red line
# Article 5 alone. Tests that pin the engine's arithmetic on those scenarios (golden rows)
# put `BEFORE_27` first, so that a change of data or defaults does not read as one of the
# engine.
MODEL_BEFORE_27 = ("enforcement=assumed", "staying=patience", "war.lottery=ideals")
RED_LINES_BEFORE = (
    "~parties.ukraine.ratification.rejects.territory",
    "~parties.ukraine.ratification.rejects.nato",
    "parties.ukraine.ratification.by=null",
    "parties.ukraine.ratification.anticipated=false",
    "parties.ukraine.preferences.territory.red_line_above=80",
    "parties.russia.preferences.territory.red_line_below=null",
    "parties.russia.preferences.territory.audience_cost=null",
    "parties.russia.preferences.guarantees.red_line=[article_5]",
)
COSTS_BEFORE = (  # the J war costs the anchored burdens replaced
    "parties.russia.war_burden=null",
    "parties.russia.war_cost=0.004",
    "parties.ukraine.war_burden=null",
    "parties.ukraine.war_cost=0.008",
)
BEFORE_27 = MODEL_BEFORE_27 + RED_LINES_BEFORE + COSTS_BEFORE
# The default scenario with the stake worth one year of output instead of three (J): war
# costs enough that the default run signs at once (docs/model.md, "Costs of war in an
# anchored unit"). Tests of what is done with a deal (stability columns, figures, terms
# sheets) use it; at the file's values the default run ends in Ukraine's walkout.
SIGNS = ("war.stake_years=1",)


def compose_config(
    overrides: Sequence[str] = (), patch: Mapping[str, Any] | None = None
) -> DictConfig:
    """The config as `python -m sim <overrides>` sees it, from Hydra's compose API.

    `patch` is merged afterwards, for what command-line overrides cannot do (adding an
    entry to a typed dict such as `issues` or a party's `preferences`). Hydra's global
    state is initialised for this call only (and whatever held it before is put back).
    """
    register_configs()
    global_hydra = GlobalHydra.instance()
    parked = global_hydra.hydra if global_hydra.is_initialized() else None
    if parked is not None:
        global_hydra.clear()
    try:
        with hydra.initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
            cfg = hydra.compose("config", overrides=list(overrides))
    finally:
        if parked is not None:
            GlobalHydra.instance().initialize(parked)
    if patch:
        with open_dict(cfg):
            cfg = OmegaConf.merge(cfg, patch)
    return cfg


@pytest.fixture(scope="session")
def compose() -> Callable[..., DictConfig]:
    """`compose(overrides=(), patch=None)`: see `compose_config`."""
    return compose_config
