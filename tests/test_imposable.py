"""What a war can impose (`war.lottery=imposable`; docs/model.md, "What a war can impose"):
the levels a third party that must sign them red-lines are out of the winner's reach, the
war BATNA's lottery uses the winner's best remaining level (the status quo where none is
left), and the previous lottery over the ideals stays available by name."""

from __future__ import annotations

import numpy as np

from sim.core import war
from sim.experiment.build import build_scenario
from sim.front.page_model import compose

AGGRESSOR, DEFENDER, THIRD, OTHER = 0, 1, 2, 3


def _controls(levels: int = 3) -> tuple[list, list, list]:
    red = np.zeros((4, levels), dtype=bool)
    issue_control = np.array([True, True, False, False])
    level_control = np.zeros((4, levels), dtype=bool)
    return [red], [issue_control], [level_control]


def test_a_level_a_third_signer_red_lines_is_not_imposable():
    red, control, levels = _controls()
    red[0][THIRD, 0] = True  # the third party red-lines level 0 ...
    levels[0][THIRD, 0] = True  # ... and must sign it
    red[0][OTHER, 2] = True  # red-lines level 2 but signs nothing: no veto
    red[0][DEFENDER, 1] = True  # a belligerent's red line: a defeated side signs anyway
    (found,) = war.imposable_levels(red, control, levels, (AGGRESSOR, DEFENDER))
    assert found.tolist() == [False, True, True]


def test_a_third_party_that_controls_the_issue_vetoes_its_red_lines():
    red, control, levels = _controls()
    control[0][OTHER] = True
    red[0][OTHER, 1:] = True
    (found,) = war.imposable_levels(red, control, levels, (AGGRESSOR, DEFENDER))
    assert found.tolist() == [True, False, False]


def test_the_winner_takes_its_best_imposable_level_or_none():
    values = [np.array([[0.0, 0.5, 1.0], [1.0, 0.6, 0.0], [0.5, 0.5, 0.5], [0, 0, 0]])]
    mask = [np.array([False, True, True])]
    assert war.winner_levels(values, DEFENDER, None) == [0]  # its ideal
    assert war.winner_levels(values, DEFENDER, mask) == [1]  # its best imposable
    assert war.winner_levels(values, AGGRESSOR, mask) == [2]  # its ideal is imposable
    assert war.winner_levels(values, DEFENDER, [np.zeros(3, dtype=bool)]) == [None]


def _batna(imposable):
    """Two issues: 0 the territory (two levels), 1 another with three levels, status quo
    level 1; weights 1/2 each; the defender's ideal on issue 1 is level 0."""
    other = np.array([[0.0, 0.5, 1.0], [1.0, 0.6, 0.0], [0.2, 0.4, 0.9], [0.0, 0.0, 0.0]])
    territory = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])
    params = war.WarParameters(1.0, 1.0, np.zeros(0), np.zeros(0), 0.5, 0.1, 0.0, 1.0, 12, 0.99)
    return war.war_batna(
        params,
        np.array([0.0, 100.0]),
        territory,
        np.full((4, 2), 0.5),
        [territory, other],
        [None, 1],
        0,
        np.zeros(4),
        (AGGRESSOR, DEFENDER),
        (),
        imposable,
    )


def test_the_lottery_uses_the_imposable_levels_in_closed_form():
    ideals = _batna(None)
    imposable = _batna([np.ones(2, dtype=bool), np.array([False, True, True])])
    nothing = _batna([np.ones(2, dtype=bool), np.zeros(3, dtype=bool)])
    column = {k: np.array([[0.0, 0.5, 1.0], [1.0, 0.6, 0.0], [0.2, 0.4, 0.9], [0.0] * 3])[:, k]
              for k in range(3)}  # fmt: skip
    # the aggressor's ideal (level 2) is imposable: unchanged
    np.testing.assert_allclose(ideals.aggressor_other, 0.5 * column[2])
    np.testing.assert_allclose(imposable.aggressor_other, 0.5 * column[2])
    # the defender's ideal (level 0) is vetoed: its next best, level 1, for every party
    np.testing.assert_allclose(ideals.defender_other, 0.5 * column[0])
    np.testing.assert_allclose(imposable.defender_other, 0.5 * column[1])
    # nothing imposable: the issue stays at its status quo (level 1) whoever wins
    np.testing.assert_allclose(nothing.aggressor_other, imposable.status_quo_other)
    np.testing.assert_allclose(nothing.defender_other, imposable.status_quo_other)


def _war_values(*overrides: str) -> dict[str, float]:
    scenario = build_scenario(compose("brussels_2025", list(overrides)))
    batna = scenario.war_batna()
    values = batna.value(scenario.contact_line, war.target_line(war.aggressor_share(batna.params)))
    return dict(zip(scenario.parties, values, strict=True))


def test_on_brussels_ukraine_can_no_longer_win_nato_membership_the_usa_red_lines():
    after = _war_values()
    before = _war_values("war.lottery=ideals")  # the previous behaviour, by name
    assert _war_values("war.lottery=imposable") == after  # the default since issue 27
    # membership needs the USA, which red-lines it: Ukraine's winning terms are worse, so
    # is its value of war, and Russia loses less when Ukraine wins
    assert after["ukraine"] < before["ukraine"] - 1e-6
    assert after["russia"] > before["russia"] + 1e-6
    scenario = build_scenario(compose("brussels_2025", ["war.lottery=imposable"]))
    nato = scenario.space.names.index("nato")
    assert scenario.imposable_levels[nato].tolist() == [False, True, True, True, True]


def test_without_stakes_all_the_lottery_changes_nothing():
    before = _war_values("war.stakes=territory")
    after = _war_values("war.stakes=territory", "war.lottery=imposable")
    assert after == before


def test_a_bad_lottery_is_one_line_naming_the_key_and_the_values(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-m", "sim", "war.lottery=bogus", f"results_dir={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: war.lottery: Invalid value 'bogus', expected one of [ideals, imposable]"
    ]
    assert not any(tmp_path.iterdir())
