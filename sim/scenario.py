"""A validated scenario: outcome space, preferences, control and capabilities as arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from sim.config import validate
from sim.outcomes import Issue, IssueKind, OutcomeSpace
from sim.preferences import (
    Preferences,
    any_level_mask,
    normalise_weights,
    positional_values,
    red_line_mask,
    table_values,
)


def build_issue(name: str, conf: Any) -> Issue:
    kind = IssueKind(conf.kind)
    if kind is IssueKind.continuous:
        issue = Issue.continuous(name, conf.low, conf.high, conf.resolution)
        if conf.default is not None:
            return Issue(name, kind, issue.levels, issue.positions, issue.level_index(conf.default))
        return issue
    if kind is IssueKind.ordinal:
        return Issue.ordinal(name, dict(conf.levels), conf.default)
    return Issue.categorical(name, list(conf.categories), conf.default)


def _level_values(issue: Issue, pref: Any | None) -> np.ndarray:
    if pref is None:
        return np.zeros(issue.size)
    if pref.table is not None:
        return table_values(issue, dict(pref.table))
    return positional_values(issue.positions, pref.ideal, pref.decay, pref.curvature)


def _reservation_level_value(issue: Issue, pref: Any | None, values: np.ndarray) -> float:
    """Value of a party's reservation point on one issue; no point: its worst level."""
    if pref is None or pref.reservation is None:
        return float(values.min())
    if pref.table is None:
        return float(
            positional_values(np.array([pref.reservation]), pref.ideal, pref.decay, pref.curvature)[
                0
            ]
        )
    return float(values[issue.level_index(float(pref.reservation))])


@dataclass(frozen=True, eq=False)
class Scenario:
    """Everything the negotiation needs from a config, validated, as numpy arrays."""

    name: str
    preferences: Preferences
    capabilities: np.ndarray  # (parties,)
    war_costs: np.ndarray  # (parties,) utility per month of war
    static_reservation: np.ndarray  # (parties,) from reservation points or fixed values
    control: tuple[np.ndarray, ...]  # per issue (parties, levels): must sign that level
    config: Any

    @property
    def parties(self) -> tuple[str, ...]:
        return self.preferences.parties

    @property
    def space(self) -> OutcomeSpace:
        return self.preferences.space

    @cached_property
    def utilities(self) -> np.ndarray:
        U = self.preferences.utilities()
        U.setflags(write=False)
        return U

    @cached_property
    def red_line_crossed(self) -> np.ndarray:
        return self.preferences.red_line_crossed()

    @cached_property
    def acceptable(self) -> np.ndarray:
        """(outcomes,) crosses no party's red line."""
        return ~self.red_line_crossed.any(axis=0)

    @cached_property
    def required_signatories(self) -> np.ndarray:
        """(parties, outcomes): parties that control some level the outcome sets."""
        return any_level_mask(self.control, self.space.shape)

    def party_index(self, name: str) -> int:
        return self.preferences.party_index(name)

    def default_outcome_levels(self) -> np.ndarray:
        """Level index per issue when nothing is agreed (status quo; 0 where none)."""
        return np.array([0 if i.default is None else i.default for i in self.space.issues])


def build_scenario(cfg: Any) -> Scenario:
    """Validate a composed config and turn it into arrays. Raises ConfigError."""
    validate(cfg)
    parties = tuple(cfg.parties)
    issues = tuple(build_issue(name, conf) for name, conf in cfg.issues.items())
    space = OutcomeSpace(issues)

    salience = np.zeros((len(parties), len(issues)))
    level_values, red_lines, control = [], [], []
    static = np.zeros(len(parties))
    for k, issue in enumerate(issues):
        values = np.zeros((len(parties), issue.size))
        lines = np.zeros((len(parties), issue.size), dtype=bool)
        for i, pname in enumerate(parties):
            pref = cfg.parties[pname].preferences.get(issue.name)
            values[i] = _level_values(issue, pref)
            if pref is not None:
                salience[i, k] = pref.salience
                lines[i] = red_line_mask(
                    issue, list(pref.red_line), pref.red_line_above, pref.red_line_below
                )
        level_values.append(values)
        red_lines.append(lines)

        issue_conf = cfg.issues[issue.name]
        ctl = np.zeros((len(parties), issue.size), dtype=bool)
        changed = np.ones(issue.size, dtype=bool)
        if issue.default is not None:
            changed[issue.default] = False
        for pname in issue_conf.control:
            ctl[parties.index(pname)] = changed
        for level, controllers in issue_conf.level_control.items():
            for pname in controllers:
                ctl[parties.index(pname), issue.level_index(level)] = True
        control.append(ctl)

    weights = normalise_weights(salience)
    for i, pname in enumerate(parties):
        fixed = cfg.parties[pname].reservation_value
        if fixed is not None:
            static[i] = fixed
            continue
        static[i] = sum(
            weights[i, k]
            * _reservation_level_value(
                issue, cfg.parties[pname].preferences.get(issue.name), level_values[k][i]
            )
            for k, issue in enumerate(issues)
        )

    preferences = Preferences(parties, space, weights, tuple(level_values), tuple(red_lines))
    return Scenario(
        name=str(cfg.scenario_name),
        preferences=preferences,
        capabilities=np.array([float(cfg.parties[p].capability) for p in parties]),
        war_costs=np.array([float(cfg.parties[p].war_cost) for p in parties]),
        static_reservation=static,
        control=tuple(control),
        config=cfg,
    )
