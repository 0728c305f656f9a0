"""The Hydra application behind `python -m sim`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
import matplotlib
from omegaconf import DictConfig

from sim.config import register_configs
from sim.errors import exit_with

register_configs()
matplotlib.use("Agg")  # the CLI writes PNG files; it never opens a window


def quiet_mesa() -> None:
    """Mesa logs every step at INFO under the "MESA" logger; Hydra's logging shows it."""
    logging.getLogger("MESA").setLevel(logging.WARNING)


# Absolute: under `python -m`, Hydra would read a relative path as a Python package.
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@hydra.main(version_base=None, config_path=CONFIG_DIR, config_name="config")
def hydra_main(cfg: DictConfig) -> Any:
    quiet_mesa()  # after Hydra has configured logging
    try:
        from sim.experiment import run_job

        return run_job(cfg)
    except Exception as exc:  # inside Hydra's job runner: report here, exit cleanly
        exit_with(exc)
