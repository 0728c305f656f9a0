"""The compiled round (sim/core/round_kernel.py) leaves every state of the numpy round of
`NegotiationBatch`, round after round, to the bit, on the settings it covers."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.engine import model as model_module
from sim.engine.model import NegotiationBatch
from sim.engine.single import NegotiationModel
from sim.experiment.build import build_scenario
from sim.experiment.compiler import negotiation_settings
from sim.experiment.jobs import run_replications
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parent.parent
CALENDAR = [
    "bargaining=calendar",
    "protocol=alternating_offers",
    "seating=inclusive",
    "staying=patience",
    "war.stakes=territory",
]
STATE = (
    "aspirations",
    "previous_aspirations",
    "others_drop",
    "seated",
    "walked_out",
    "frustrated",
    "asked",
    "accepted",
    "can_implement",
    "fully_implementable",
    "zopa_witness",
    "offers",
    "proposers",
    "agreements",
    "signed",
    "bound",
    "live",
    "end_rounds",
    "batnas",
    "lines",
    "unchanged",
    "last_offer",
    "texts",
    "phases",
    "frameworks",
    "framework_rounds",
    "framework_floors",
)


def compiled_from(monkeypatch, after: int) -> None:
    """The process turns to the compiled round after `after` replication-rounds from now."""
    monkeypatch.setattr(model_module, "COMPILE_ROUNDS_AFTER", after)
    monkeypatch.setattr(model_module, "_rounds_played", 0)


def play(cfg, replications: int) -> tuple[NegotiationBatch, list[dict]]:
    """A batch played to its end, with every state after each round."""
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=False)
    batch = NegotiationBatch(
        [scenario] * replications,
        settings,
        [scenario.war_params] * replications,
        list(range(replications)),
    )
    states = []
    while batch.running:
        batch.step()
        state = {name: getattr(batch, name).copy() for name in STATE if hasattr(batch, name)}
        if batch.learned:  # the frequency model's counts
            state["counts"] = np.concatenate([c.ravel() for c in batch.level_counts])
        state["reasons"] = list(batch.reasons)
        state["walkouts"] = [list(w) for w in batch.walkout_names]
        state["why"] = [list(w) for w in batch.walkout_whys]
        state["rejected_by"] = [list(r) for r in batch.rejected_by]
        states.append(state)
    return batch, states


def assert_same_rounds(numpy_states: list[dict], compiled_states: list[dict]) -> None:
    assert len(numpy_states) == len(compiled_states)
    for round_, (a, b) in enumerate(zip(numpy_states, compiled_states, strict=True), start=1):
        for name, value in a.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == b[name].dtype, (round_, name)
                assert np.array_equal(value, b[name]), (round_, name)
            else:
                assert value == b[name], (round_, name)


CASES = {
    "brussels": [],
    "static": ["batna=static"],
    "static_impatient": ["batna=static", "walkout_patience=1"],
    "dayton": ["scenario=dayton_1995"],
    "paris": ["scenario=paris_2026"],
    "ec": ["scenario=ec_emissions_1994"],
    "reciprocal_hardliner": [
        "parties.usa.strategy=reciprocal",
        "parties.europe.strategy=reciprocal",
        "parties.russia.strategy=hardliner",
    ],
    "delay_costs": ["parties.russia.delay_cost=0.02", "parties.ukraine.delay_cost=0.01"],
    "ratifier": ["parties.ukraine.ratification.anticipated=false", "max_rounds=40"],
    "short": ["max_rounds=12", "walkout_patience=2"],
    "stalemate": [
        "parties.russia.strategy=hardliner",
        "parties.russia.deadline=150",
        "max_rounds=30",
    ],
    "phased": ["seating=us_russia_first"],
    "phased_short": ["seating=us_russia_first", "phase_one_rounds=3", "batna=static"],
    "phased_dayton": ["scenario=dayton_1995", "seating=phased", "phase_one_rounds=5"],
    "hopeful": ["staying=hopeful", "walkout_patience=1"],
    "hopeful_paris": ["scenario=paris_2026", "staying=hopeful", "max_rounds=40"],
    "hopeful_looking_ahead": ["staying=hopeful", "walkout_patience=1", "war.stakes=all"],
    "learned": ["information=learned"],
    "learned_phased": ["information=learned", "seating=us_russia_first", "batna=static"],
    "learned_ec": ["information=learned", "scenario=ec_emissions_1994"],
}
PROTOCOLS = ("alternating_offers", "single_text")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_compiled_round_leaves_the_numpy_rounds_states(case, protocol, monkeypatch):
    cfg = compose_config([*CALENDAR, f"protocol={protocol}", *CASES[case]])
    compiled_from(monkeypatch, 10**12)
    numpy_batch, numpy_states = play(cfg, 6)
    compiled_from(monkeypatch, -1)
    compiled_batch, compiled_states = play(cfg, 6)
    assert compiled_batch.kernel_covers
    assert_same_rounds(numpy_states, compiled_states)
    for a, b in zip(numpy_batch.results(), compiled_batch.results(), strict=True):
        assert (a.reason, a.round, a.outcome, a.binding, a.walkouts) == (
            b.reason,
            b.round,
            b.outcome,
            b.binding,
            b.walkouts,
        )
        assert (a.signed, a.rejected_by, a.zopa_size) == (b.signed, b.rejected_by, b.zopa_size)


def test_the_cases_reach_every_way_a_round_ends(monkeypatch):
    """The cases above are worth comparing: between them the talks end in each way the
    compiled round reports, with walkouts both at a deadline and of impatience."""
    compiled_from(monkeypatch, -1)
    for protocol in PROTOCOLS:
        reasons, whys, frameworks, moved = set(), set(), 0, 0
        for overrides in CASES.values():
            cfg = compose_config([*CALENDAR, f"protocol={protocol}", *overrides])
            batch, states = play(cfg, 6)
            reasons |= {str(r) for r in batch.reasons}
            whys |= {w for ws in batch.walkout_whys for w in ws}
            frameworks += int((batch.frameworks >= 0).sum())
            moved += sum(
                not np.array_equal(a["texts"], b["texts"]) for a, b in itertools.pairwise(states)
            )
        assert {"agreement", "breakdown", "ratification_failed", "deadline"} <= reasons, protocol
        assert whys == {"deadline", "batna"}, protocol
        assert frameworks > 0, protocol
        assert (moved > 0) == (protocol == "single_text")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_drawn_replications_give_the_same_rows_compiled(protocol, monkeypatch):
    """Drawn saliences and costs: each replication its own utilities and preference orders."""
    cfg = compose_config(
        [
            *CALENDAR,
            f"protocol={protocol}",
            "replications=12",
            "uncertainty.salience.dist=lognormal",
            "uncertainty.salience.scale=0.3",
            "uncertainty.war_costs.dist=uniform",
            "uncertainty.war_costs.scale=0.5",
            "parties.russia.strategy=reciprocal",
        ]
    )
    compiled_from(monkeypatch, 10**12)
    numpy_rows, _ = run_replications(cfg, overrides="")
    compiled_from(monkeypatch, -1)
    compiled_rows, _ = run_replications(cfg, overrides="")
    assert len({row["reason"] for row in numpy_rows}) >= 1
    assert numpy_rows == compiled_rows


def test_a_process_turns_to_the_compiled_round_mid_negotiation_and_nothing_changes(
    monkeypatch,
):
    """The gate counts replication-rounds: the first negotiation switches in round 31."""
    cfg = compose_config([*CALENDAR, "parties.usa.strategy=reciprocal"])
    scenario = build_scenario(cfg)
    settings = negotiation_settings(cfg, collect_trace=True)
    compiled_from(monkeypatch, 10**12)
    expected = NegotiationModel(scenario, settings, rng=3).run()
    used = []
    real = model_module.NegotiationBatch._compiled_round

    def watched(self, kernel, live):
        used.append(self.round)
        return real(self, kernel, live)

    monkeypatch.setattr(model_module.NegotiationBatch, "_compiled_round", watched)
    compiled_from(monkeypatch, 30)
    switched = NegotiationModel(scenario, settings, rng=3).run()
    assert used[0] == 31 and used[-1] == switched.round
    assert switched.round == expected.round > 31
    assert switched.trace().equals(expected.trace())
    assert switched.result(0).outcome == expected.result(0).outcome


@pytest.mark.parametrize(
    "overrides",
    [
        [],  # the default: single text, bargaining while fighting
        ["protocol=alternating_offers"],
        ["information=learned"],
    ],
)
def test_the_numpy_round_plays_what_the_compiled_round_does_not_cover(overrides, monkeypatch):
    compiled_from(monkeypatch, -1)
    cfg = compose_config(overrides)
    scenario = build_scenario(cfg)
    model = NegotiationModel(scenario, negotiation_settings(cfg, collect_trace=False), rng=0)
    assert not model.kernel_covers
    assert model._round_kernel(1) is None


def test_hopeful_parties_look_ahead_in_numpy_within_a_compiled_round(monkeypatch):
    """Under war BATNAs a hopeful party that would leave looks ahead (in numpy) first; the
    cases above compare the states, this one that the look ahead ran and kept someone."""
    compiled_from(monkeypatch, -1)
    cfg = compose_config([*CALENDAR, *CASES["hopeful_looking_ahead"]])
    looked, stayed = [], []
    real = model_module.NegotiationBatch._hopeful_stay

    def watched(self, reps, impatient):
        kept = real(self, reps, impatient)
        looked.append(int(impatient.sum()))
        stayed.append(int((impatient & ~kept).sum()))
        return kept

    monkeypatch.setattr(model_module.NegotiationBatch, "_hopeful_stay", watched)
    batch, _ = play(cfg, 4)
    assert batch.kernel_covers and sum(looked) > 0 and sum(stayed) > 0


def test_without_numba_the_rounds_stay_in_numpy_say_so_once_and_agree():
    """A process where numba cannot be imported (blocked before anything loads it)."""
    code = "\n".join(
        [
            "import sys, warnings",
            "sys.modules['numba'] = None",
            "from sim.engine import model as m",
            "from sim.engine.single import NegotiationModel",
            "from sim.experiment.build import build_scenario",
            "from sim.experiment.compiler import negotiation_settings",
            "from tests.conftest import compose_config",
            f"cfg = compose_config({CALENDAR!r})",
            "sc, st = build_scenario(cfg), negotiation_settings(cfg)",
            "m.COMPILE_ROUNDS_AFTER = 10**12",
            "expected = [NegotiationModel(sc, st, rng=i).run().result(0) for i in range(2)]",
            "m.COMPILE_ROUNDS_AFTER = -1",
            "with warnings.catch_warnings(record=True) as said:",
            "    warnings.simplefilter('always')",
            "    got = [NegotiationModel(sc, st, rng=i).run().result(0) for i in range(2)]",
            "said = [str(w.message) for w in said if w.category is RuntimeWarning]",
            "rounds = [w for w in said if 'the rounds run in numpy, with the same' in w]",
            "print(len(rounds), rounds[0].startswith('the compiled kernels cannot be loaded'))",
            "same = [(a.outcome, a.round) == (b.outcome, b.round) for a, b in zip(expected, got)]",
            "print(all(same))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split() == ["1", "True", "True"], done.stdout + done.stderr


def test_a_tactic_replaced_after_the_start_is_played_as_given(monkeypatch):
    """The compiled round is planned for the parties' strategies and clocks: a strategy of
    another class turns the round back to numpy, another exponent or clock is read anew."""
    from sim.core.strategies import Boulware, Conceder

    class Stubborn(Boulware):  # a tactic the compiled round does not know
        def aspiration(self, x):
            return np.maximum(x.best, x.reservation)

    cfg = compose_config(CALENDAR)
    scenario, settings = build_scenario(cfg), negotiation_settings(cfg, collect_trace=True)
    runs = []
    for after in (10**12, -1):
        compiled_from(monkeypatch, after)
        model = NegotiationModel(scenario, settings, rng=2)
        model.step()
        model.by_index[0].strategy = Conceder(3.0)
        model.by_index[2].deadline = 40
        model.step()
        assert model.kernel_covers
        model.by_index[1].strategy = Stubborn()
        model.run()
        assert not model.kernel_covers
        runs.append(model)
    assert runs[0].trace().equals(runs[1].trace())
    assert runs[0].trace()["aspiration_russia"].iloc[-1] == runs[0].by_index[1].best
