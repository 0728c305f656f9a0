"""The Hydra application behind `python -m sim`."""

from __future__ import annotations

import logging
from typing import Any

import hydra
from omegaconf import DictConfig

from sim.experiment.error_lines import exit_with
from sim.experiment.schema import CONFIG_DIR, register_configs

register_configs()


def quiet_mesa() -> None:
    """Mesa logs every step at INFO under the "MESA" logger; Hydra's logging shows it."""
    logging.getLogger("MESA").setLevel(logging.WARNING)


@hydra.main(version_base=None, config_path=CONFIG_DIR, config_name="config")
def hydra_main(cfg: DictConfig) -> Any:
    quiet_mesa()  # after Hydra has configured logging
    try:
        from sim.front.cli import hydra_task

        return hydra_task(cfg)
    except Exception as exc:  # inside Hydra's job runner: report here, exit cleanly
        exit_with(exc)
