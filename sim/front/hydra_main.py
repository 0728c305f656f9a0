"""The Hydra application behind `python -m sim`."""

from __future__ import annotations

import logging
from typing import Any

import hydra
from omegaconf import DictConfig

from sim.experiment.error_lines import exit_with
from sim.experiment.schema import CONFIG_DIR, register_configs

register_configs()


def preset_note() -> str | None:
    """A sweep preset chosen for a single run (no `-m`): what runs, and how to sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hc = HydraConfig.get()
    preset = hc.runtime.choices.get("sweep")
    if hc.mode != RunMode.RUN or preset in (None, "none"):
        return None
    return (
        f"note: sweep={preset} is a sweep preset; without -m this is one run with its settings "
        f"(its swept values unused); ./dev run -m sweep={preset} runs the sweep"
    )


def quiet_mesa() -> None:
    """Mesa logs every step at INFO under the "MESA" logger; Hydra's logging shows it."""
    logging.getLogger("MESA").setLevel(logging.WARNING)


@hydra.main(version_base=None, config_path=CONFIG_DIR, config_name="config")
def hydra_main(cfg: DictConfig) -> Any:
    quiet_mesa()  # after Hydra has configured logging
    note = preset_note()
    if note:
        print(note, flush=True)
    try:
        from sim.front.cli import hydra_task

        return hydra_task(cfg)
    except Exception as exc:  # inside Hydra's job runner: report here, exit cleanly
        exit_with(exc)
