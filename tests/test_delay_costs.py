"""Delay costs (`parties.<name>.delay_cost`; docs/model.md, "Delay costs"): a round
without agreement costs a party `d`, so that it accepts a text worth its aspiration less
`d` (the responder's condition of Rubinstein 1982 with fixed costs); the more impatient
side gives more, and sooner. With `d = 0` the model before."""

from __future__ import annotations

import pytest

from sim.core.settings import EndReason
from sim.engine.agents import accepts
from sim.experiment.validation import ConfigError
from tests.helpers_model import fearon_config, run


def static_duel(delay_a: float = 0.0, delay_b: float = 0.0, reservation: float = 0.3):
    """Two parties splitting 0..100 (a's share) with fixed BATNAs of 0.3 each: every split
    in [30, 70] beats both; ten rounds of a single text."""
    cfg = fearon_config(max_rounds=10)
    cfg.batna = "static"
    for name, delay in (("a", delay_a), ("b", delay_b)):
        cfg.parties[name].reservation_value = reservation
        cfg.parties[name].delay_cost = delay
    return cfg


def deal(cfg) -> tuple[int, int]:
    result = run(cfg, collect_trace=False).result(0)
    assert result.reason is EndReason.agreement
    return result.round, int(result.outcome)


def test_a_responder_takes_its_aspiration_less_the_cost_of_a_round():
    assert accepts(0.55, 0.6, 0.3, False, delay_cost=0.05)
    assert not accepts(0.55, 0.6, 0.3, False, delay_cost=0.04)
    assert not accepts(0.25, 0.3, 0.3, False, delay_cost=0.2)  # never below the BATNA
    assert not accepts(0.9, 0.6, 0.3, True, delay_cost=0.2)  # nor across a red line


@pytest.mark.parametrize("delay", [0.05, 0.1])
def test_the_impatient_side_gives_more_and_sooner(delay):
    base_round, base_split = deal(static_duel())
    b_round, b_split = deal(static_duel(delay_b=delay))
    a_round, a_split = deal(static_duel(delay_a=delay))
    assert b_split >= base_split and b_round <= base_round  # b impatient: a gets more
    assert a_split <= base_split and a_round <= base_round  # a impatient: a gets less
    assert b_split - base_split == base_split - a_split  # the duel is symmetric


def test_bigger_delay_costs_on_one_side_move_the_deal_further():
    assert deal(static_duel(delay_b=0.1))[1] > deal(static_duel(delay_b=0.05))[1]


def test_equal_delay_costs_hurry_the_deal_without_moving_it():
    base_round, base_split = deal(static_duel())
    both_round, both_split = deal(static_duel(0.05, 0.05))
    assert both_split == base_split and both_round < base_round


def test_without_delay_costs_the_model_is_the_one_before():
    cfg = fearon_config(max_rounds=10)  # no delay_cost key at all
    cfg.batna = "static"
    cfg.parties.a.reservation_value = cfg.parties.b.reservation_value = 0.3
    assert deal(cfg) == deal(static_duel()) == (8, 50)


def test_a_negative_delay_cost_is_refused():
    with pytest.raises(ConfigError) as error:
        run(static_duel(delay_a=-0.1))
    assert error.value.key == "parties.a.delay_cost"
    assert "[0.0, 1.0]" in error.value.allowed
