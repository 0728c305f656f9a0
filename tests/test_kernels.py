"""The compiled kernels of the anticipated paths (sim/core/kernels.py) give the numbers of
the numpy functions they fuse, to the bit: `war.WarBatna.value_on_paths` and
`enforcement.renewals` (itself `war_preferred`, `next_preferred`, `continuation_after`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from sim.core import enforcement, kernels
from sim.core.scenario import Scenario
from sim.experiment.build import build_scenario
from tests.conftest import compose_config

ROOT = Path(__file__).resolve().parent.parent


def scenario_batna(overrides: list[str]):
    scenario = build_scenario(compose_config(overrides))
    return scenario, scenario.war_batna(scenario.war_params)


@pytest.mark.parametrize(
    "overrides",
    [[], ["war.stakes=territory"], ["scenario=dayton_1995"], ["scenario=paris_2026"]],
)
def test_war_values_on_paths_are_the_batnas_values_to_the_bit(overrides):
    scenario, batna = scenario_batna(overrides)
    rng = np.random.default_rng(7)
    paths, months, parties = 37, 15, len(scenario.parties)
    low, high = batna.territory_positions[0], batna.territory_positions[-1]
    lines = rng.uniform(low - 10, high + 10, paths)  # some outside the scale: clipped
    lines[:3] = batna.territory_positions[[0, 1, -1]]  # on knots
    targets = rng.uniform(low - 10, high + 10, (paths, months))
    cost = rng.uniform(0, 0.3, (paths, parties))
    expected = dataclasses.replace(batna, cost=cost[:, None, :]).value(lines[:, None], targets)
    assert np.array_equal(batna.value_on_paths(lines, targets, cost), expected)
    found = kernels.path_values(batna, lines, targets, cost)
    assert found.shape == (paths, months, parties)
    assert np.array_equal(found, expected)
    assert (batna.aggressor_other is None) == ("war.stakes=territory" in overrides)


def test_war_values_on_a_scale_of_one_level_are_that_level_s():
    _, batna = scenario_batna([])
    one = dataclasses.replace(
        batna,
        territory_positions=batna.territory_positions[:1],
        territory_values=batna.territory_values[:, :1],
    )
    lines, targets = np.array([0.0, 40.0]), np.array([[10.0, 90.0], [50.0, 0.0]])
    cost = np.full((2, batna.territory_values.shape[0]), 0.1)
    expected = dataclasses.replace(one, cost=cost[:, None, :]).value(lines[:, None], targets)
    assert np.array_equal(kernels.path_values(one, lines, targets, cost), expected)


def numpy_renewals(deal, renewed, path_of, fighters, tolerance, first_at, last, discount):
    """The anticipated renewals composed of `enforcement`'s steps, all deals at once."""
    by_month = renewed[path_of].transpose(1, 2, 0)  # (months, parties, outcomes)
    prefers = enforcement.war_preferred(deal, by_month, fighters, tolerance)
    due = enforcement.next_preferred(prefers)[first_at]
    after = due - first_at[:, None]
    first = np.where(after <= last, after, -1)
    resumes = np.minimum(due, by_month.shape[0] - 1)
    war_then = by_month[resumes, :, np.arange(deal.shape[1])].transpose(0, 2, 1)
    return first, enforcement.continuation_after(deal, war_then, first, discount)


@pytest.mark.parametrize("seed", range(6))
def test_renewals_are_the_numpy_composition_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    parties, deals, paths, last = 4, 300, 23, int(rng.integers(3, 13))
    starts = int(rng.integers(1, 5))
    months = starts + last + int(rng.integers(0, 4))
    deal = rng.uniform(0.2, 0.8, (parties, deals))
    renewed = rng.uniform(0.0, 0.9, (paths, months, parties))
    renewed[rng.random(renewed.shape) < 0.6] = 0.0  # many months where no one prefers war
    path_of = rng.integers(0, paths, deals)
    fighters = (1, 2) if seed % 2 else (0, 1, 3)
    first_at = np.sort(rng.choice(months - last, starts, replace=False))
    args = (deal, renewed, path_of, fighters, 1e-9, first_at, last, 0.97)
    first, values = kernels.renewals(*args)
    expected_first, expected_values = numpy_renewals(*args)
    assert np.array_equal(first, expected_first)
    assert np.array_equal(values, expected_values)
    for chunk in (1, 10_000, 2_000_000):  # in chunks of deals, as the same
        chunked = enforcement.renewals(*args, chunk_floats=chunk)
        assert np.array_equal(chunked[0], first) and np.array_equal(chunked[1], values)
    # every case is there: deals that hold, break at once (-inf) and break later
    assert (first == -1).any() and (first == 0).any() and (first > 0).any()
    broken_at_once = np.broadcast_to((first == 0)[:, None, :], values.shape)
    assert np.isneginf(values[broken_at_once]).all()
    held = np.broadcast_to((first == -1)[:, None, :], values.shape)
    assert np.array_equal(values[held], np.broadcast_to(deal, values.shape)[held])


@pytest.mark.parametrize("overrides", [[], ["scenario=dayton_1995"]])
def test_a_process_turns_to_the_kernels_after_its_first_anticipations_and_nothing_changes(
    overrides, monkeypatch
):
    from sim.core import scenario as scenario_module

    scenario = build_scenario(compose_config(overrides))
    starts = [0.0, 1.0, 2.5, 6.0]
    used = []
    real = scenario_module._compiled

    def watched():
        module = real()
        used.append(module is not None)
        return module

    monkeypatch.setattr(scenario_module, "_compiled", watched)
    monkeypatch.setattr(scenario_module, "COMPILE_AFTER", 2)
    monkeypatch.setattr(scenario_module, "_anticipations_computed", 0)
    runs = [scenario.anticipations(scenario.war_params, 12, starts) for _ in range(4)]
    assert used == [False, False, True, True]
    numpy_run, compiled_run = runs[0], runs[3]
    for a, b in zip(numpy_run, compiled_run, strict=True):
        for field in ("months", "first", "values", "renewed", "path_of"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), field


def test_a_scenario_keeps_its_deals_paths_and_values_them_under_any_war_parameters(
    monkeypatch,
):
    """The paths (signatures, line levels) depend on neither the war's parameters nor its
    costs: kept per set of deals and shared with the scenario's draws, they give what a
    fresh scenario gives."""
    scenario = build_scenario(compose_config([]))
    stronger = dataclasses.replace(
        scenario.war_params, aggressor_capacity=scenario.war_params.aggressor_capacity * 1.3
    )
    subset = np.arange(0, scenario.space.size, 7)
    scenario.anticipations(scenario.war_params, 12, [0.0])
    scenario.anticipations(scenario.war_params, 12, [1.0], subset)
    kept = scenario.anticipations(stronger, 12, [0.0, 2.0], subset)
    assert len(scenario.derived) == 2  # all deals, and the subset
    drawn = dataclasses.replace(scenario, war_costs=scenario.war_costs * 2)
    assert drawn.derived is scenario.derived  # a replication's draws share them
    again = drawn.anticipations(stronger, 12, [0.0, 2.0], subset)
    expected = dataclasses.replace(build_scenario(compose_config([])), war_costs=drawn.war_costs)
    for a, b in zip(again, expected.anticipations(stronger, 12, [0.0, 2.0], subset), strict=True):
        assert np.array_equal(a.values, b.values) and np.array_equal(a.renewed, b.renewed)
    assert not np.array_equal(again[0].renewed, kept[0].renewed)  # its own costs
    found = []
    real = Scenario._find_paths
    monkeypatch.setattr(Scenario, "_find_paths", lambda sc, o: found.append(1) or real(sc, o))
    drawn.anticipations(stronger, 12, [0.0], subset)
    assert found == []  # kept
    zero = tuple(np.zeros((n, len(scenario.parties))) for n in scenario.space.shape)
    dataclasses.replace(scenario, level_shifts=zero).anticipations(stronger, 12, [0.0], subset)
    assert found == [1]  # other shifts: found anew
    fresh = build_scenario(compose_config([])).anticipations(stronger, 12, [0.0, 2.0], subset)
    for a, b in zip(kept, fresh, strict=True):
        assert np.array_equal(a.values, b.values) and np.array_equal(a.first, b.first)
        assert np.array_equal(a.renewed, b.renewed) and np.array_equal(a.path_of, b.path_of)
    assert not np.array_equal(
        kept[0].renewed, scenario.anticipations(scenario.war_params, 12, [0.0], subset)[0].renewed
    )  # the parameters do matter


def test_without_numba_a_process_stays_in_numpy_says_so_once_and_gets_the_same():
    """A process where numba cannot be imported (blocked here before anything loads it)."""
    import subprocess
    import sys

    code = "\n".join(
        [
            "import sys, warnings",
            "sys.modules['numba'] = None",  # `import numba` raises ImportError
            "import numpy as np",
            "from sim.core import scenario as m",
            "from sim.experiment.build import build_scenario",
            "from tests.conftest import compose_config",
            "sc = build_scenario(compose_config([]))",
            "m.COMPILE_AFTER = 10**9",
            "numpy_run = sc.anticipations(sc.war_params, 12, [0.0, 3.0])",
            "m.COMPILE_AFTER = 0",
            "with warnings.catch_warnings(record=True) as said:",
            "    warnings.simplefilter('always')",
            "    runs = [sc.anticipations(sc.war_params, 12, [0.0, 3.0]) for _ in range(3)]",
            "print(len(said), 'run in numpy, with the same results' in str(said[0].message))",
            "print(all(np.array_equal(a.values, b.values) and np.array_equal(a.renewed, b.renewed)"
            " for run in runs for a, b in zip(numpy_run, run)))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split() == ["1", "True", "True"], done.stdout + done.stderr


def test_paths_less_their_costs_compiled_are_numpys_gather_to_the_bit():
    rng = np.random.default_rng(11)
    free = rng.normal(size=(9, 14, 4))
    free[2, 3, 1] = -np.inf  # a value of war that cannot be had stays -inf
    pair_of = rng.integers(0, 9, 40)
    costs = rng.uniform(0, 0.4, (5, 4))
    signature = rng.integers(0, 5, 40)
    expected = free[pair_of] - costs[signature][:, None, :]
    got = kernels.paths_less_costs(free, pair_of, costs, signature)
    assert got.shape == (40, 14, 4)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("overrides", [[], ["scenario=dayton_1995"], ["war.stakes=all"]])
def test_the_war_batna_kept_per_scenario_is_the_one_computed_afresh(overrides):
    """`Scenario.war_batna` keeps what a war leaves on the other issues (it depends on
    neither the war's parameters nor its costs): the same numbers as computing it at the
    same weights, under other parameters too."""
    scenario = build_scenario(compose_config(overrides))
    stronger = dataclasses.replace(
        scenario.war_params, aggressor_capacity=scenario.war_params.aggressor_capacity * 1.5
    )
    for params in (scenario.war_params, stronger, scenario.war_params):
        kept = scenario.war_batna(params)
        afresh = scenario.war_batna(params, weights=scenario.preferences.weights.copy())
        for field in dataclasses.fields(kept):
            a, b = getattr(kept, field.name), getattr(afresh, field.name)
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b), field.name
    assert (
        scenario.war_batna(stronger).value(50.0, 40.0).tolist()
        != scenario.war_batna(
            dataclasses.replace(stronger, horizon_months=stronger.horizon_months * 2)
        )
        .value(50.0, 40.0)
        .tolist()
    )
