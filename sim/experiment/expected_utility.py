"""Bueno de Mesquita's expected-utility model (`sim.core.bdm`) on a scenario's own inputs
(docs/model.md, "Bueno de Mesquita's expected-utility model"): per issue, each party's
position (its `ideal`, or the position of the level it values most), capability
(`parties.<name>.capability`) and salience (`preferences.<issue>.salience`, divided by
the largest salience in the scenario, so that the most salient interest is 1), then the
rounds and the forecast. No war block is needed: the model reads positions alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core import bdm
from sim.core.outcomes import Issue, IssueKind
from sim.experiment.build import build_issue, issue_level_values
from sim.experiment.validation import ConfigError


@dataclass(frozen=True)
class IssueInputs:
    """One issue as the model reads it: the parties with a position and a salience on it,
    their positions, capabilities and saliences in [0, 1], and the issue itself."""

    issue: Issue
    parties: tuple[str, ...]
    positions: np.ndarray
    capabilities: np.ndarray
    saliences: np.ndarray


@dataclass(frozen=True)
class IssueForecast:
    """The model's rounds on one issue and its forecast: a position, and on an issue of
    named levels the nearest level too."""

    inputs: IssueInputs
    rounds: bdm.BdmRounds

    @property
    def position(self) -> float:
        return self.rounds.forecast

    @property
    def level(self) -> str | None:
        """The level nearest the forecast (None on a continuous issue)."""
        issue = self.inputs.issue
        if issue.kind is IssueKind.continuous:
            return None
        return issue.levels[int(np.argmin(np.abs(issue.positions - self.position)))]


def options_of(cfg: Any) -> bdm.BdmOptions:
    """The model's options from the config's `bdm` block."""
    conf = cfg.bdm
    return bdm.BdmOptions(
        q=float(conf.q),
        t=float(conf.t),
        rounds=int(conf.rounds),
        probability=bdm.Probability(conf.probability),
        compromise=bdm.Compromise(conf.compromise),
        risk=bool(conf.risk),
    )


def largest_salience(cfg: Any) -> float:
    """The largest salience any party gives any issue (the unit of the model's s)."""
    found = [
        float(pref.salience)
        for conf in cfg.parties.values()
        if conf is not None
        for pref in (conf.preferences or {}).values()
        if pref is not None
    ]
    return max(found, default=0.0)


def issue_inputs(cfg: Any, name: str) -> IssueInputs:
    """The model's inputs on issue `name`; a ConfigError naming the key when the issue has
    no order (categorical), a capability or salience is negative, or fewer than two
    parties have a position and a salience above 0 on it."""
    issue = build_issue(name, cfg.issues[name])
    if issue.kind is IssueKind.categorical:
        raise ConfigError(
            f"issues.{name}.kind",
            "categorical",
            "an issue whose levels have positions (continuous or ordinal): the expected-"
            "utility model needs an order",
        )
    top = largest_salience(cfg)
    parties, positions, capabilities, saliences = [], [], [], []
    for party, conf in cfg.parties.items():
        if conf is None:
            continue
        capability = float(conf.capability)
        if capability < 0:
            raise ConfigError(f"parties.{party}.capability", capability, "a number >= 0")
        pref = (conf.preferences or {}).get(name)
        if pref is None:
            continue
        salience = float(pref.salience)
        if salience < 0:
            raise ConfigError(
                f"parties.{party}.preferences.{name}.salience", salience, "a number >= 0"
            )
        if salience == 0 or (pref.ideal is None and pref.table is None):
            continue
        if pref.table is None:
            position = float(pref.ideal)
        else:
            position = float(issue.positions[int(np.argmax(issue_level_values(issue, pref)))])
        parties.append(party)
        positions.append(position)
        capabilities.append(capability)
        saliences.append(salience / top)
    if len(parties) < 2:
        raise ConfigError(
            f"parties.<name>.preferences.{name}",
            f"{len(parties)} part{'y' if len(parties) == 1 else 'ies'} with a position",
            "at least two parties with a position (`ideal` or a `table`) and a salience "
            "above 0 on the issue",
        )
    return IssueInputs(
        issue,
        tuple(parties),
        np.array(positions),
        np.array(capabilities),
        np.array(saliences),
    )


def forecast_issue(cfg: Any, name: str, options: bdm.BdmOptions | None = None) -> IssueForecast:
    """The model's rounds and forecast on issue `name` (options: the config's `bdm`)."""
    inputs = issue_inputs(cfg, name)
    options = options or options_of(cfg)
    rounds = bdm.run(inputs.positions, inputs.capabilities, inputs.saliences, options)
    return IssueForecast(inputs, rounds)


def forecast_scenario(
    cfg: Any, options: bdm.BdmOptions | None = None
) -> dict[str, IssueForecast | ConfigError]:
    """Every issue's forecast, or the error that says why the model cannot forecast it."""
    out: dict[str, IssueForecast | ConfigError] = {}
    for name in cfg.issues:
        try:
            out[name] = forecast_issue(cfg, name, options)
        except ConfigError as exc:
            out[name] = exc
    return out
