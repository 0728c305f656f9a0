"""Value functions and utility matrices.

Utility is additive and normalised (Keeney & Raiffa 1976, multi-attribute value theory):
``u_i(o) = sum_k w_ik * v_ik(o_k)`` with ``sum_k w_ik = 1`` and every ``v_ik`` in [0, 1],
evaluated for all outcomes at once by broadcasting over the grid's shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.core.outcomes import Issue, OutcomeSpace

# Utilities are sums of a few floats: comparisons of utilities (acceptance, the ZOPA, the
# stability checks) allow this slack, so that an outcome worth exactly a threshold passes.
TOLERANCE = 1e-9


def positional_values(
    positions: np.ndarray, ideal: float, decay: float = 100.0, curvature: float = 1.0
) -> np.ndarray:
    """Value of each position for a party whose ideal point is `ideal`.

    ``v(x) = (1 - min(|x - ideal| / decay, 1)) ** curvature``: 1 at the ideal, 0 at
    distance `decay` and beyond; curvature 1 is linear, < 1 concave (slow early loss,
    risk-averse), > 1 convex (sharp early loss).
    """
    if not decay > 0:
        raise ValueError(f"decay must be > 0, got {decay}")
    if not curvature > 0:
        raise ValueError(f"curvature must be > 0, got {curvature}")
    distance = np.minimum(np.abs(np.asarray(positions, dtype=np.float64) - ideal) / decay, 1.0)
    return (1.0 - distance) ** curvature


def table_values(issue: Issue, table: Mapping[str, float]) -> np.ndarray:
    """Value of each level from a level table; levels missing from the table are worth 0."""
    unknown = set(table) - set(issue.levels)
    if unknown:
        raise KeyError(
            f"issue {issue.name!r}: unknown levels {sorted(unknown)} in value table; "
            f"allowed: {list(issue.levels)}"
        )
    return np.array([float(table.get(level, 0.0)) for level in issue.levels])


def red_line_mask(
    issue: Issue,
    levels: Sequence[str] = (),
    above: float | None = None,
    below: float | None = None,
) -> np.ndarray:
    """Levels a party can never accept: named ones, and positions above/below a bound."""
    mask = np.zeros(issue.size, dtype=bool)
    for level in levels:
        mask[issue.level_index(str(level))] = True
    if above is not None:
        mask |= issue.positions > above
    if below is not None:
        mask |= issue.positions < below
    return mask


def normalise_weights(salience: np.ndarray) -> np.ndarray:
    """Rows of non-negative saliences scaled to sum to 1."""
    salience = np.asarray(salience, dtype=np.float64)
    if (salience < 0).any():
        raise ValueError("saliences must be non-negative")
    totals = salience.sum(axis=-1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError("saliences must not all be zero for a party")
    return salience / totals


def controls_nothing(
    issue_control: Sequence[np.ndarray], level_control: Sequence[np.ndarray], party: int
) -> np.ndarray:
    """(issues,) True where `party` controls neither the issue nor any of its levels."""
    return np.array(
        [
            not (base[party] or levels[party].any())
            for base, levels in zip(issue_control, level_control, strict=True)
        ],
        dtype=bool,
    )


def mediator_stakes(
    weights: np.ndarray,
    issue_control: Sequence[np.ndarray],
    level_control: Sequence[np.ndarray],
    mediator: int,
    bias: float,
) -> np.ndarray:
    """Issue weights (parties, issues) with the mediator's weight on every issue where it
    controls nothing (neither the issue nor any of its levels) multiplied by `bias`, its row
    renormalised (left at 0 if nothing remains: a mediator without a stake).

    0 is Raiffa's (1982, ch. 14) neutral facilitator, whose own preferences count only
    where it is a party that delivers something (its backstop, its vote on membership);
    1 is a broker with its full stake in every issue (Kydd 2003, "Which Side Are You
    On?"): the weights unchanged. `issue_control[k]` is (parties,), `level_control[k]`
    (parties, levels)."""
    out = np.array(weights, dtype=np.float64)
    out[mediator, controls_nothing(issue_control, level_control, mediator)] *= bias
    total = out[mediator].sum()
    out[mediator] = out[mediator] / total if total > 0 else 0.0
    return out


def utility_matrix(
    weights: np.ndarray, level_values: Sequence[np.ndarray], shape: Sequence[int] | None = None
) -> np.ndarray:
    """(parties, outcomes) additive utilities over the Cartesian grid.

    Parameters
    ----------
    weights : (parties, issues) normalised weights.
    level_values : per issue a (parties, levels) array of values in [0, 1].
    shape : the grid's shape (levels per issue); inferred from `level_values`.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_parties, n_issues = weights.shape
    shape = tuple(v.shape[1] for v in level_values) if shape is None else tuple(shape)
    total = np.zeros((n_parties, *shape))
    for k, values in enumerate(level_values):
        expand = [1] * n_issues
        expand[k] = shape[k]
        total += (weights[:, k, None] * values).reshape(n_parties, *expand)
    return total.reshape(n_parties, -1)


def any_level_mask(masks: Sequence[np.ndarray], shape: Sequence[int]) -> np.ndarray:
    """(parties, outcomes) True where an outcome uses any masked level of any issue."""
    n_parties = masks[0].shape[0]
    out = np.zeros((n_parties, *shape), dtype=bool)
    for k, mask in enumerate(masks):
        expand = [1] * len(shape)
        expand[k] = shape[k]
        out |= mask.reshape(n_parties, *expand)
    return out.reshape(n_parties, -1)


@dataclass(frozen=True, eq=False)
class Link:
    """A party's values over pairs of levels of two linked issues (preferential dependence,
    Keeney & Raiffa 1976, ch. 5): `values[a, b]` in [0, 1] replaces the party's additive
    value of the pair, weighted by its two saliences together; NaN keeps the additive value
    (docs/model.md, "Linked issues")."""

    party: int
    issues: tuple[int, int]
    values: np.ndarray  # (levels of the first issue, levels of the second)


def link_gain(
    link: Link,
    level_values: Sequence[np.ndarray],
    weights: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
) -> np.ndarray:
    """What `link` adds to its party's additive utility at levels `first`, `second` (any
    matching shape S): ``(w_a + w_b) V(a, b) - w_a v_a(a) - w_b v_b(b)``, 0 where V is NaN.
    `weights` (..., parties, issues); the result has shape (..., *S)."""
    a, b = link.issues
    w = np.asarray(weights)[..., link.party, :]
    w_a = w[..., a].reshape(w.shape[:-1] + (1,) * np.ndim(first))
    w_b = w[..., b].reshape(w.shape[:-1] + (1,) * np.ndim(first))
    joint = link.values[first, second]
    v_a = level_values[a][link.party, first]
    v_b = level_values[b][link.party, second]
    gain = (w_a + w_b) * joint - w_a * v_a - w_b * v_b
    return np.where(np.isnan(joint), 0.0, gain)


@dataclass(frozen=True, eq=False)
class Preferences:
    """Every party's weights, level values and red lines over one outcome space."""

    parties: tuple[str, ...]
    space: OutcomeSpace
    weights: np.ndarray  # (parties, issues), rows sum to 1 (0: a mediator without a stake)
    level_values: tuple[np.ndarray, ...]  # per issue (parties, levels) in [0, 1]
    red_lines: tuple[np.ndarray, ...] = field(default=())  # per issue (parties, levels) bool
    links: tuple[Link, ...] = ()  # linked issues of some parties
    # Red lines declared as public commitments (Fearon 1994): per issue (parties, levels)
    # the utility a party loses by signing that level (its audience cost), 0 elsewhere.
    audience_costs: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        n_parties, n_issues = len(self.parties), len(self.space.issues)
        if self.weights.shape != (n_parties, n_issues):
            raise ValueError(f"weights shape {self.weights.shape} != {(n_parties, n_issues)}")
        totals = self.weights.sum(axis=1)
        if not (np.isclose(totals, 1.0) | (totals == 0)).all():
            raise ValueError("weights must sum to 1 for every party (0: a mediator with no stake)")
        if not self.red_lines:
            empty = tuple(np.zeros((n_parties, i.size), dtype=bool) for i in self.space.issues)
            object.__setattr__(self, "red_lines", empty)
        for values, issue in zip(self.level_values, self.space.issues, strict=True):
            if values.shape != (n_parties, issue.size):
                raise ValueError(f"issue {issue.name!r}: level values shape {values.shape}")
        linked = [(link.party, k) for link in self.links for k in link.issues]
        if len(set(linked)) != len(linked):  # also refuses an issue linked to itself
            raise ValueError("links: each party links an issue at most once, to another issue")
        for link in self.links:
            shape = tuple(self.space.issues[k].size for k in link.issues)
            if link.values.shape != shape:
                raise ValueError(f"link of party {link.party}: values shape {link.values.shape}")

    def link_gains(
        self, level_indices: np.ndarray, weights: np.ndarray | None = None
    ) -> np.ndarray:
        """(..., parties, outcomes): what the links add to the additive utilities of the
        outcomes `level_indices` (outcomes, issues), under `weights` (..., parties, issues;
        default the parties' own)."""
        weights = self.weights if weights is None else weights
        out = np.zeros((*np.shape(weights)[:-1], level_indices.shape[0]))
        for link in self.links:
            a, b = link.issues
            gain = link_gain(
                link, self.level_values, weights, level_indices[:, a], level_indices[:, b]
            )
            out[..., link.party, :] += gain
        return out

    def coefficients(self, level_indices: np.ndarray) -> np.ndarray:
        """(parties, outcomes, issues) C with ``u_i(o) = sum_k w_ik C_ik(o)`` for any weights
        w: the additive value, and a link's joint value on its two issues, are linear in the
        weights (what a link adds under all weight on issue k is its part of C_ik); an
        audience cost, the same whatever the weights, is in every C_ik (for weights that
        sum to 1, as every party's with a stake do)."""
        per_outcome = np.stack(
            [values[:, level_indices[:, k]] for k, values in enumerate(self.level_values)], axis=-1
        )
        if self.links:
            n_parties, n_issues = self.weights.shape
            basis = np.broadcast_to(np.eye(n_issues)[:, None, :], (n_issues, n_parties, n_issues))
            per_outcome = per_outcome + np.moveaxis(self.link_gains(level_indices, basis), 0, -1)
        penalty = self.audience_penalty(level_indices)
        if penalty is not None:  # a constant: sum_k w_ik a_i = a_i, the weights summing to 1
            per_outcome = per_outcome - penalty[:, :, None]
        return per_outcome

    def party_index(self, name: str) -> int:
        try:
            return self.parties.index(name)
        except ValueError:
            raise KeyError(f"unknown party {name!r}; allowed: {list(self.parties)}") from None

    def utilities(self) -> np.ndarray:
        """The utility matrix U, shape (parties, outcomes); additive over issues but for
        the linked ones (`Link`), less the audience costs of the commitments crossed."""
        U = utility_matrix(self.weights, self.level_values, self.space.shape)
        if self.links:
            U += self.link_gains(self.space.grid)
        if self.audience_costs:
            ones = np.ones_like(self.weights)
            U -= utility_matrix(ones, self.audience_costs, self.space.shape)
        return U

    def audience_penalty(self, level_indices: np.ndarray) -> np.ndarray | None:
        """(parties, outcomes) the audience costs of the outcomes `level_indices`
        (outcomes, issues): what each party loses for the public commitments they cross,
        whatever its weights; None without commitments."""
        if not self.audience_costs:
            return None
        return sum(costs[:, level_indices[:, k]] for k, costs in enumerate(self.audience_costs))

    def red_line_crossed(self) -> np.ndarray:
        """(parties, outcomes) True where the outcome crosses that party's red line."""
        return any_level_mask(self.red_lines, self.space.shape)

    def ideal_outcomes(self, utilities: np.ndarray | None = None) -> np.ndarray:
        """Each party's best outcome that crosses none of its own red lines (lowest index)."""
        u = self.utilities() if utilities is None else utilities
        masked = np.where(self.red_line_crossed(), -np.inf, u)
        return masked.argmax(axis=1)
