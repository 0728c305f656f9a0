"""Bueno de Mesquita's expected-utility model of collective decisions (docs/model.md,
"Bueno de Mesquita's expected-utility model"), as Scholz, Calbert & Smith (2011,
"Unravelling Bueno De Mesquita's group decision model", Journal of Theoretical Politics
23(4): 510-531, appendix) reconstruct it from Bueno de Mesquita (1994, "Political
forecasting: an expected utility method", in *European Community Decision Making*, Yale
UP, 71-104). Pure numpy over actors: every (actors, actors) matrix is indexed [i, j], actor
i's view of a contest with actor j.

Each round, on one issue:
1. the centre mu: the weighted median (or mean) of the positions, weights c s;
2. basic utilities with risk exponent r_i (first r = 1), d = |x_i - x_j| / span:
   U_s = 2 - 4 (1/2 - d/2)^r, U_f = 2 - 4 (1/2 + d/2)^r, U_sq = 2 - 4 (1/2)^r,
   U_b = 2 - 4 (1/2 - (|x_i - mu| / span + d) / 4)^r, U_w the same with +;
3. i's chance of winning a contest with j: the votes v_k = c_k s_k (|x_k - x_j| - |x_k - x_i|)
   for i, P_ij = sum of the positive votes / sum of |v_k|;
4. i's expected utility of challenging j:
   EU_ij = s_j (P_ij U_s + (1 - P_ij) U_f) + (1 - s_j) U_s - Q U_sq - (1 - Q)(T U_b + (1 - T) U_w);
5. risk: the security of k is sum_{j != k} EU_jk; R_i = (2 sec_i - max sec - min sec) /
   (max sec - min sec), r_i = (1 - R_i/3) / (1 + R_i/3); steps 2-4 again with these r;
6. offers: i challenges j when EU_ij > 0; j takes the offer of highest EU (nearest on a tie)
   and, with its own EU_ji of that contest: a conflict it loses (0 < EU_ji < EU_ij) or a
   capitulation (EU_ji < 0, |EU_ji| > EU_ij) moves it to x_i; a compromise (EU_ji < 0,
   |EU_ji| < EU_ij) moves it |EU_ji / EU_ij| of the way. All moves at once.
The forecast is the centre after the last round.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from sim.core.scoring import weighted_mean, weighted_median


class Probability(enum.StrEnum):
    """P_ij's denominator: Scholz et al.'s (every voter's |vote| over every pair of actors:
    small probabilities, `scholz`) or this contest's votes alone (`dyadic`, so that
    P_ij + P_ji = 1: Bueno de Mesquita 1994's text)."""

    scholz = "scholz"
    dyadic = "dyadic"


class Compromise(enum.StrEnum):
    """Which compromise an actor takes when it has several and no confrontation: the one
    that moves it least (`nearest`, Bueno de Mesquita 1994 and Scholz et al.'s text) or the
    one nearest the EU-weighted meeting point (`scholz`, their code)."""

    nearest = "nearest"
    scholz = "scholz"


TIE_DIGITS = 9  # offers whose moves differ by less than 1e-9 of the span are equally good
TIE = 1e-9  # expected utilities (of order 1) closer than this are equal


@dataclass(frozen=True)
class BdmOptions:
    """The model's parameters and the readings of what the published description leaves
    open (docs/model.md lists each)."""

    q: float = 1.0  # Q: the probability that nothing changes absent a challenge
    t: float = 1.0  # T: the probability that a change absent a challenge helps i
    rounds: int = 8
    probability: Probability = Probability.scholz
    compromise: Compromise = Compromise.scholz
    risk: bool = True  # risk exponents from the security levels; False: r = 1 throughout


@dataclass(frozen=True)
class BdmRounds:
    """The rounds of one issue: positions (rounds + 1, actors), the median voter position
    and the weighted mean each round (rounds + 1,), each round's expected utilities
    EU[v, i, j] (rounds, actors, actors, actors: i challenging j as v sees it) and risk
    exponents (rounds, actors), and the forecast (the last median)."""

    positions: np.ndarray
    medians: np.ndarray
    means: np.ndarray
    expected: np.ndarray
    risk: np.ndarray
    forecast: float
    options: BdmOptions = field(default_factory=BdmOptions)


def median_voter(x: np.ndarray, c: np.ndarray, s: np.ndarray, span: float) -> float:
    """The position (among the actors') that beats or ties every other in the pairwise
    votes sum_k c_k s_k (|x_k - b| - |x_k - a|) / span for a over b; the weighted median
    of the positions when several do."""
    candidates = np.unique(x)
    near = np.abs(x[:, None] - candidates[None, :]) / span  # [k, a]
    votes = np.einsum("k,kab->ab", c * s, near[:, None, :] - near[:, :, None])  # a over b
    unbeaten = candidates[(votes >= -1e-12).all(axis=1)]
    if unbeaten.size == 1:
        return float(unbeaten[0])
    return weighted_median(x, c * s)


def success_probabilities(
    x: np.ndarray,
    c: np.ndarray,
    s: np.ndarray,
    r: np.ndarray,
    span: float,
    how: Probability = Probability.scholz,
) -> np.ndarray:
    """P[i, j]: i's chance of winning a contest with j from the votes
    v_k(i, j) = c_k s_k ((|x_k - x_j| / span)^r_k - (|x_k - x_i| / span)^r_k), each voter with
    its own risk exponent: the positive votes over the denominator `how` names; 0 where
    i and j hold one position."""
    near = (np.abs(x[:, None] - x[None, :]) / span) ** r[:, None]  # [k, m]
    votes = (c * s)[:, None, None] * (near[:, None, :] - near[:, :, None])  # [k, i, j]
    won = np.where(votes > 0, votes, 0.0).sum(axis=0)
    if how is Probability.scholz:
        total = np.full_like(won, np.abs(votes).sum())
    else:
        total = np.abs(votes).sum(axis=0)
    p = np.divide(won, total, out=np.zeros_like(won), where=total > 0)
    return np.where(x[:, None] == x[None, :], 0.0, p)


def expected_utilities(
    x: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    span: float,
    mu: float,
    q: float,
    t: float,
) -> np.ndarray:
    """EU[v, i, j]: i's expected utility of challenging j as actor v sees it, with v's risk
    exponent r_v in every basic utility (Scholz et al. 2011, section 3):
    s_j (P_ij U_s + (1 - P_ij) U_f) + (1 - s_j) U_s - Q U_sq - (1 - Q)(T U_b + (1 - T) U_w);
    0 where i = j."""
    d = np.abs(x[:, None] - x[None, :]) / span  # [i, j]
    off = np.abs(x - mu)[:, None] / span  # [i, 1]
    rv = r[:, None, None]
    success = 2 - 4 * (0.5 - 0.5 * d) ** rv
    failure = 2 - 4 * (0.5 + 0.5 * d) ** rv
    status_quo = 2 - 4 * 0.5**rv
    better = 2 - 4 * np.clip(0.5 - 0.25 * (off + d), 0.0, None) ** rv
    worse = 2 - 4 * (0.5 + 0.25 * (off + d)) ** rv
    sj = s[None, None, :]
    challenge = sj * (p * success + (1 - p) * failure) + (1 - sj) * success
    eu = challenge - q * status_quo - (1 - q) * (t * better + (1 - t) * worse)
    eu[:, np.arange(x.size), np.arange(x.size)] = 0.0
    return eu


def risk_exponents(eu_at_one: np.ndarray) -> np.ndarray:
    """r_k from the security levels (Scholz et al. 2011, section 5): with every r = 1, the
    danger of k is sum_{j != k} EU_jk; R_k = (2 danger_k - max - min) / (max - min) and
    r_k = (1 - R_k / 3) / (1 + R_k / 3); 1 for all when every danger is equal."""
    danger = eu_at_one.sum(axis=0)  # any viewer: they all see it with r = 1
    high, low = danger.max(), danger.min()
    if high - low <= 0:
        return np.ones_like(danger)
    big_r = (2 * danger - high - low) / (high - low)
    return (1 - big_r / 3) / (1 + big_r / 3)


def offers(x: np.ndarray, eu: np.ndarray, how: Compromise = Compromise.scholz) -> np.ndarray:
    """Each actor's position after the best offer it receives, all at once (Scholz et al.
    2011, section 6; Bueno de Mesquita 1994). Actor i, seeing its own EU_ij and the
    challenger j's EU_ji with its own risk exponent: a confrontation it expects to lose
    (EU_ji > EU_ij > 0) moves it to x_j; a compromise (EU_ji > 0 > EU_ij, EU_ji > |EU_ij|)
    |EU_ij / EU_ji| of the way; a capitulation (EU_ji > 0 > EU_ij, EU_ji <= |EU_ij|) to x_j.
    Confrontations come first, then compromises, then capitulations; among several of a
    kind, the smallest move (compromises: `how`), on a tie the lower position."""
    new = x.copy()
    span = float(x.max() - x.min()) or 1.0
    for i in range(x.size):
        mine, theirs = eu[i, i, :], eu[i, :, i]  # EU_ij and EU_ji as i sees them
        others = x != x[i]
        # EUs within TIE of each other (or of 0) are equal: rounding must not decide
        confront = others & (theirs > mine + TIE) & (mine > TIE)
        yield_ = others & (theirs > TIE) & (mine < -TIE)
        compromise = yield_ & (theirs > np.abs(mine) + TIE)
        capitulate = yield_ & ~compromise
        for kind, to in (
            (confront, x),
            (compromise, x[i] + (x - x[i]) * np.abs(mine / np.where(theirs != 0, theirs, 1))),
            (capitulate, x),
        ):
            if not kind.any():
                continue
            js = np.flatnonzero(kind)
            key = np.abs(to[js] - x[i])
            if kind is compromise and how is Compromise.scholz:
                key = (np.abs(mine[js]) * x[i] + np.abs(theirs[js]) * x[js]) / (
                    np.abs(mine[js]) + np.abs(theirs[js])
                )
            # ties (to rounding in the positions' units): the lower position, never the label
            j = js[np.lexsort((to[js], np.round(key / span, TIE_DIGITS)))[0]]
            new[i] = to[j]
            break
    return new


def run(
    x: np.ndarray, c: np.ndarray, s: np.ndarray, options: BdmOptions | None = None
) -> BdmRounds:
    """`options.rounds` rounds from positions `x`, capabilities `c` and saliences `s` in
    [0, 1] (actors,): the positions, median voter positions and weighted means of every
    round, and the forecast: the median voter position after the last round. Distances are
    in units of the first round's range of positions (Scholz et al. 2011)."""
    options = options or BdmOptions()
    x, c, s = (np.asarray(a, dtype=np.float64) for a in (x, c, s))
    span = float(x.max() - x.min()) or 1.0
    positions, expected, risk = [x], [], []
    for _ in range(options.rounds):
        now = positions[-1]
        mu = median_voter(now, c, s, span)
        ones = np.ones_like(now)
        r = ones
        if options.risk:
            p = success_probabilities(now, c, s, ones, span, options.probability)
            r = risk_exponents(
                expected_utilities(now, s, p, ones, span, mu, options.q, options.t)[0]
            )
        p = success_probabilities(now, c, s, r, span, options.probability)
        eu = expected_utilities(now, s, p, r, span, mu, options.q, options.t)
        expected.append(eu)
        risk.append(r)
        positions.append(offers(now, eu, options.compromise))
    stacked = np.stack(positions)
    medians = np.array([median_voter(row, c, s, span) for row in stacked])
    means = np.array([weighted_mean(row, c * s) for row in stacked])
    return BdmRounds(
        stacked, medians, means, np.stack(expected), np.stack(risk), float(medians[-1]), options
    )
