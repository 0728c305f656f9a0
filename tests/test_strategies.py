"""Negotiation strategies (sim.core.strategies): aspiration curves, metadata, and their play."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.settings import StrategyName
from sim.core.strategies import (
    STRATEGIES,
    AspirationInput,
    Boulware,
    Conceder,
    HardLiner,
    Linear,
    Reciprocal,
    Strategy,
    WarValue,
    make_strategy,
    strategies_where,
    time_dependent,
)
from tests.helpers_model import fearon_config, run

BEST, RES, T = 1.0, 0.2, 10


def at(
    round_: int,
    best: float = BEST,
    reservation: float = RES,
    deadline: int = T,
    previous: float = BEST,
    others: float = 0.0,
) -> AspirationInput:
    return AspirationInput(
        round=round_,
        deadline=deadline,
        best=best,
        reservation=reservation,
        previous=previous,
        others_concession=others,
    )


# --- time-dependent tactics (Faratin, Sierra & Jennings 1998) --------------------------


@pytest.mark.parametrize(("cls", "exponent"), [(Boulware, 0.2), (Linear, 1.0), (Conceder, 5.0)])
def test_default_exponents(cls, exponent):
    assert cls().exponent == exponent
    assert cls(exponent=2.5).exponent == 2.5


@pytest.mark.parametrize("cls", [Boulware, Linear, Conceder])
def test_time_dependent_curve_closed_form(cls):
    s = cls()
    e = s.exponent
    assert s.aspiration(at(0)) == pytest.approx(BEST)  # t = 0: the best
    mid = RES + (BEST - RES) * (1.0 - 0.5 ** (1.0 / e))
    assert s.aspiration(at(T // 2)) == pytest.approx(mid)  # t = T/2
    assert s.aspiration(at(T)) == pytest.approx(RES)  # t = T: the BATNA
    assert s.aspiration(at(3 * T)) == pytest.approx(RES)  # after the deadline: stays there


def test_mid_time_values_and_ordering():
    boulware, linear, conceder = (c().aspiration(at(T // 2)) for c in (Boulware, Linear, Conceder))
    # 0.2 + 0.8 (1 - 0.5^5), 0.2 + 0.8 * 0.5, 0.2 + 0.8 (1 - 0.5^0.2)
    assert boulware == pytest.approx(0.975)
    assert linear == pytest.approx(0.6)
    assert conceder == pytest.approx(0.2 + 0.8 * (1.0 - 0.5**0.2))
    assert boulware > linear > conceder


@settings(max_examples=30, deadline=None)
@given(
    round_=st.integers(0, 40),
    deadline=st.integers(1, 40),
    best=st.floats(0.0, 1.0),
    gap=st.floats(0.0, 1.0),
)
def test_boulware_never_below_linear_never_below_conceder(round_, deadline, best, gap):
    res = best * (1.0 - gap)
    x = at(round_, best=best, reservation=res, deadline=deadline)
    b, lin, c = (cls().aspiration(x) for cls in (Boulware, Linear, Conceder))
    assert res - 1e-12 <= c <= lin + 1e-12
    assert lin <= b + 1e-12
    assert b <= best + 1e-12


@settings(max_examples=30, deadline=None)
@given(exponent=st.floats(0.05, 20.0), deadline=st.integers(1, 30))
def test_time_dependent_is_monotone_in_time(exponent, deadline):
    path = [time_dependent(at(t, deadline=deadline), exponent) for t in range(deadline + 2)]
    assert np.all(np.diff(path) <= 1e-12)
    assert path[0] == pytest.approx(BEST) and path[-1] == pytest.approx(RES)


def test_linear_concedes_equal_steps():
    path = np.array([Linear().aspiration(at(t)) for t in range(T + 1)])
    np.testing.assert_allclose(np.diff(path), -(BEST - RES) / T)


# --- reciprocal (relative tit-for-tat) -------------------------------------------------


def test_reciprocal_opens_with_one_linear_step():
    assert Reciprocal().aspiration(at(1)) == pytest.approx(BEST - (BEST - RES) / T)


@pytest.mark.parametrize("others", [0.0, 0.01, 0.05, 0.1])
def test_reciprocal_mirrors_the_others_concession(others):
    s = Reciprocal()
    assert s.aspiration(at(4, previous=0.8, others=others)) == pytest.approx(0.8 - others)
    doubled = Reciprocal(exponent=2.0)
    assert doubled.aspiration(at(4, previous=0.8, others=others)) == pytest.approx(
        0.8 - 2.0 * others
    )


def test_reciprocal_does_not_answer_hardening_and_stays_between_batna_and_best():
    s = Reciprocal()
    assert s.aspiration(at(4, previous=0.7, others=-0.2)) == pytest.approx(0.7)
    assert s.aspiration(at(4, previous=0.25, others=0.3)) == pytest.approx(RES)
    assert s.aspiration(at(4, previous=1.5, others=0.0)) == pytest.approx(BEST)


# --- hard-liner ------------------------------------------------------------------------


@pytest.mark.parametrize("round_", [0, 1, T // 2, T, 5 * T])
def test_hardliner_never_concedes(round_):
    s = HardLiner()
    assert s.aspiration(at(round_, others=0.3, previous=0.4)) == BEST
    assert s.aspiration(at(round_, best=0.3, reservation=0.6)) == 0.6  # never below the BATNA


def test_only_the_hardliner_walks_out_at_its_deadline():
    assert HardLiner().walks_out_at_deadline()
    for cls in (Boulware, Linear, Conceder, Reciprocal):
        assert not cls().walks_out_at_deadline()


# --- metadata (Axelrod's name and classifier) ------------------------------------------


def test_every_strategy_declares_a_name_and_the_same_classifier_keys():
    keys = set(Boulware.classifier)
    assert keys == {
        "time_dependent",
        "reactive",
        "concedes",
        "walks_out_at_deadline",
        "proposes_believed_nash",
    }
    for name, cls in STRATEGIES.items():
        assert issubclass(cls, Strategy)
        assert cls.name is name
        assert isinstance(cls.name, StrategyName)
        assert set(cls.classifier) == keys
    assert set(STRATEGIES) == set(StrategyName)


def test_strategies_where_filters_on_the_classifier():
    assert strategies_where(reactive=True) == [Reciprocal]
    assert strategies_where(time_dependent=True) == [Boulware, Linear, Conceder]
    assert strategies_where(concedes=False) == [HardLiner, WarValue]
    assert strategies_where(walks_out_at_deadline=True) == [HardLiner, WarValue]
    assert strategies_where(proposes_believed_nash=True) == [WarValue]
    assert strategies_where(reactive=True, time_dependent=True) == []
    assert strategies_where() == list(STRATEGIES.values())


@pytest.mark.parametrize("name", list(StrategyName))
def test_make_strategy_by_name(name):
    s = make_strategy(name)
    assert s.name is name
    assert make_strategy(str(name), 0.5).exponent == 0.5


def test_make_strategy_rejects_unknown_names_listing_the_allowed_ones():
    with pytest.raises(ValueError, match=r"strategy: got 'tit_for_tat'; allowed: one of \["):
        make_strategy("tit_for_tat")


@pytest.mark.parametrize("exponent", [0.0, -1.0])
def test_exponent_must_be_positive(exponent):
    with pytest.raises(ValueError, match=r"concession exponent must be > 0, got"):
        Linear(exponent)


# --- strategies in play (one-issue Fearon problem, see helpers_model) -------------------


def test_reciprocal_mirrors_a_linear_opponent_in_the_model():
    """b's drop in round t is a's drop in round t-1, until b reaches its BATNA."""
    model = run(fearon_config(strategy_a="linear", strategy_b="reciprocal", max_rounds=30))
    trace = model.trace()
    a = np.concatenate([[1.0], trace["aspiration_a"].to_numpy()])  # round 0: the best
    b = np.concatenate([[1.0], trace["aspiration_b"].to_numpy()])
    drop_a, drop_b = -np.diff(a), -np.diff(b)
    reservation_b = model.reservations[1]
    assert drop_b[0] == pytest.approx((1.0 - reservation_b) / 30)  # opening linear step
    free = b[2:] > reservation_b + 1e-12  # rounds where b was not stopped by its BATNA
    assert free.sum() >= 5
    np.testing.assert_allclose(drop_b[1:][free], drop_a[:-1][free], atol=1e-12)
    np.testing.assert_allclose(drop_a, 0.45 / 30, atol=1e-12)  # linear: best 1, BATNA 0.55


@pytest.mark.parametrize("other", ["linear", "conceder", "boulware"])
def test_time_dependent_aspirations_in_the_model_follow_the_curve(other):
    model = run(fearon_config(strategy_a="boulware", strategy_b=other, max_rounds=20))
    trace = model.trace()
    t = trace["round"].to_numpy()
    for party, cls in (("a", Boulware), ("b", STRATEGIES[StrategyName(other)])):
        res = model.reservations[model.parties.index(party)]
        curve = res + (1.0 - res) * (1.0 - (t / 20) ** (1.0 / cls.default_exponent))
        np.testing.assert_allclose(trace[f"aspiration_{party}"], curve, atol=1e-12)


def test_hardliner_aspiration_is_flat_in_the_model():
    model = run(fearon_config(strategy_a="hardliner", strategy_b="conceder", max_rounds=15))
    assert (model.trace()["aspiration_a"] == 1.0).all()
    assert model.reason == "breakdown" and model.walkouts == ["a"] and model.round == 15
