"""The forecast scorecard (`sim.core.scoring`, `sim.experiment.cases`, `sim.experiment.forecast`,
`python -m
sim.front.validate`): the arithmetic on synthetic cases (a perfect forecaster scores 0, a coin
0.25, the baselines' closed forms), records checked before anything runs, a case that fails
reported, the command end to end on a folder of the user's, and the model never reading a
record (every shipped case run with the records moved away gives the same rows)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core import scoring
from sim.core.outcomes import IssueKind
from sim.experiment import cases as case_files
from sim.experiment.cases import Case, Record, check_record, folder_cases, load_record
from sim.experiment.forecast import (
    CaseResult,
    IssueScale,
    RunPlan,
    baseline_terms,
    compare_forecasts,
    forecasts_table,
    issue_scales,
    latin_hypercube,
    model_forecast,
    model_rows,
    scores_table,
)
from sim.experiment.judgement import Parameter
from sim.experiment.schema import CONFIG_DIR, plain
from sim.experiment.validation import ConfigError
from sim.front.page_model import compose
from tests.conftest import ROOT
from tests.helpers_hardening import files_under

# --- the arithmetic --------------------------------------------------------------------


def test_a_perfect_forecaster_scores_0_and_a_coin_a_quarter():
    y = np.array([1, 0, 0, 1, 1])
    assert scoring.brier(y, y).mean() == 0
    assert scoring.brier(np.full(5, 0.5), y).mean() == 0.25
    assert scoring.brier(1 - y, y).mean() == 1
    with pytest.raises(ValueError, match="probabilities must lie in"):
        scoring.brier(np.array([1.2]), np.array([1]))


@pytest.mark.parametrize(
    ("x", "w", "median"),
    [
        ([0, 50, 100], [1, 1, 1], 50),
        ([0, 50, 100], [3, 1, 1], 0),
        ([0, 100], [1, 1], 50),  # the weight split exactly in half: the midpoint
        ([10, 0, 90], [0.3, 0.4, 0.3], 10),
        ([70, 0, 40, 49, 49, 55], [0.8, 0.5, 0.7, 1.0, 0.8, 0.5], 49),
        ([5, 80], [0, 1], 80),  # a zero weight does not count
    ],
)
def test_the_weighted_median_minimises_the_weighted_distance(x, w, median):
    assert scoring.weighted_median(np.array(x), np.array(w)) == median
    grid = np.linspace(0, 100, 1001)
    cost = np.abs(grid[:, None] - np.array(x)[None, :]) @ np.array(w, dtype=float)
    assert cost.min() == pytest.approx(np.abs(median - np.array(x)) @ np.array(w, float))


def test_the_weighted_mean_and_mode_and_their_bad_input():
    assert scoring.weighted_mean(np.array([0.0, 100.0]), np.array([1.0, 3.0])) == 75.0
    assert scoring.weighted_mode(["a", "b", "a"], np.array([1, 1.5, 1])) == "a"
    with pytest.raises(ValueError, match="weights >= 0, some > 0"):
        scoring.weighted_median(np.array([1.0]), np.array([0.0]))


def test_the_leave_one_out_rate_and_median_are_the_other_cases():
    y = np.array([1, 1, 0, 0, 0])
    assert scoring.leave_one_out_rate(y).tolist() == [0.25, 0.25, 0.5, 0.5, 0.5]
    assert np.isnan(scoring.leave_one_out_rate(np.array([1]))).all()
    assert scoring.leave_one_out_median(np.array([1.0, 2.0, 9.0])).tolist() == [5.5, 5.0, 1.5]


def test_skill_and_paired_bootstrap_intervals():
    assert scoring.skill(0.1, 0.2) == 0.5
    assert np.isnan(scoring.skill(0.1, 0.0))
    losses = np.array([[0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 1.0, 0.0]])
    found = scoring.scores_with_intervals(losses, np.random.default_rng(0), resamples=500)
    assert found["mean"].tolist() == [0.0, 0.25, 0.5]
    assert found["reference"][0] == 1  # the best of the rows after the first
    assert found["skill"].tolist() == [1.0, 0.0, -1.0]
    assert found["low"][:2].tolist() == found["high"][:2].tolist() == [0.0, 0.25]
    assert 0.0 <= found["low"][2] < 0.5 < found["high"][2] <= 1.0
    assert found["skill_low"][0] == found["skill_high"][0] == 1.0  # paired: always perfect


# --- synthetic cases through the scorer --------------------------------------------------


def _record(name: str, agreement: bool, held: bool | None = None, month: float = 2.0,
            terms: dict | None = None) -> Record:  # fmt: skip
    opened = dt.date(2000, 1, 1)
    signed = opened + dt.timedelta(days=round(month * case_files.DAYS_PER_MONTH))
    return Record(
        case=name,
        path=Path(f"{name}.yaml"),
        talks_opened=opened,
        horizon_months=12.0,
        agreement=agreement,
        signed=signed if agreement else None,
        terms=(terms or {"border": 40.0}) if agreement else {},
        held=held if agreement else None,
        sources=["a synthetic source, 2000"],
    )


SCALES = {
    "border": IssueScale(
        "border", IssueKind.continuous, ("0", "100"), np.array([0.0, 100.0]), 0.0, 100.0, 50.0
    )
}


def _rows(agree: bool, position: float = 40.0, months: float = 2.0, durability: float = 1.0,
          settings: int = 4, replications: int = 2) -> pd.DataFrame:  # fmt: skip
    rows = []
    for s in range(-1, settings):
        for r in range(replications):
            rows.append(
                {
                    "setting": s,
                    "replication": r,
                    "agreement": agree,
                    "months": months if agree else 100.0,
                    "reason": "agreement" if agree else "breakdown",
                    "durability": durability if agree else np.nan,
                    "stable": False,
                    "border_position": position if agree else np.nan,
                    "border": None,
                }
            )
    return pd.DataFrame(rows)


def _result(record: Record, rows: pd.DataFrame | None, baselines: dict | None = None):
    baselines = baselines or {
        b: {"border": 50.0} for b in ("weighted_median", "weighted_mean", "midpoint", "status_quo")
    }
    case = Case(record.case, Path(CONFIG_DIR), record.path)
    return CaseResult(
        case, record, SCALES, baselines, rows, None, 1.0, "" if rows is not None else "boom"
    )


RECORDS = [
    _record("a", True, held=True, month=2.0),
    _record("b", True, held=False, month=6.0),
    _record("c", False),
    _record("d", False),
    _record("e", False),
]


def _perfect(rec: Record) -> pd.DataFrame:
    return _rows(rec.agreement, 40.0, rec.month, 1.0 if rec.held else 0.0)


def test_a_perfect_model_scores_0_on_every_quantity_and_the_baselines_their_closed_forms():
    results = [_result(r, _perfect(r)) for r in RECORDS]
    forecasts = forecasts_table(results)
    scores = scores_table(forecasts, resamples=200).set_index(["quantity", "forecaster"])
    for quantity in ("agreement", "holds", "terms", "month"):
        assert scores.loc[(quantity, "model"), "score"] == pytest.approx(0.0, abs=1e-12)
    # 2 of 5 signed: "always" is wrong on 3, "never" on 2; base rate left one out
    assert scores.loc[("agreement", "always"), "score"] == pytest.approx(3 / 5)
    assert scores.loc[("agreement", "never"), "score"] == pytest.approx(2 / 5)
    loo = np.array([1 / 4, 1 / 4, 2 / 4, 2 / 4, 2 / 4])
    y = np.array([1, 1, 0, 0, 0])
    expected = ((loo - y) ** 2).mean()
    assert scores.loc[("agreement", "base_rate"), "score"] == pytest.approx(expected)
    assert expected == pytest.approx(0.375)  # better than "never" (0.4)
    assert scores.loc[("agreement", "model"), "best_baseline"] == "base_rate"
    assert scores.loc[("agreement", "model"), "skill"] == pytest.approx(1.0)
    # held: one of two; base rate left one out is the other's outcome: Brier 1 on each
    assert scores.loc[("holds", "always"), "score"] == pytest.approx(0.5)
    assert scores.loc[("holds", "base_rate"), "score"] == pytest.approx(1.0)
    # terms: every baseline says 50 against 40 signed: 0.1 on the 0-100 scale
    assert scores.loc[("terms", "weighted_median"), "score"] == pytest.approx(0.1)
    # month: the other signed case's month, |6 - 2| both ways
    months = [r.month for r in RECORDS[:2]]
    assert scores.loc[("month", "base_rate"), "score"] == pytest.approx(abs(months[1] - months[0]))
    assert (scores["cases"].loc["agreement"] == 5).all()
    assert (scores["cases"].loc["holds"] == 2).all()


def test_a_coin_scores_a_quarter_and_a_model_without_deals_falls_back_as_documented():
    coin = []
    for rec in RECORDS:
        rows = _rows(True, 40.0, rec.month if rec.agreement else 2.0, 0.5)
        rows.loc[rows.replication == 1, ["agreement"]] = False  # half the negotiations
        coin.append(_result(rec, rows))
    scores = scores_table(forecasts_table(coin), resamples=100).set_index(
        ["quantity", "forecaster"]
    )
    assert scores.loc[("agreement", "model"), "score"] == pytest.approx(0.25)
    assert scores.loc[("holds", "model"), "score"] == pytest.approx(0.25)
    # no deal at all: P = 0, the month is the horizon, the terms the status quo, P(holds) 1/2
    forecast = model_forecast(_rows(False), SCALES, 12.0, np.random.default_rng(0))
    assert (forecast.p_agreement, forecast.month, forecast.p_holds) == (0.0, 12.0, 0.5)
    assert forecast.terms == {"border": 50.0}


def test_a_comparison_gives_the_models_loss_per_case_then_and_now():
    then = forecasts_table([_result(r, _perfect(r)) for r in RECORDS])
    worse = [_result(r, _rows(not r.agreement, 40.0, 2.0, 0.0)) for r in RECORDS[:4]]
    now = forecasts_table(worse)
    found = compare_forecasts(then, now).set_index(["quantity", "case"])
    assert list(found.index.get_level_values(0).unique()) == [
        "agreement",
        "holds",
        "terms",
        "month",
    ]
    # a and b signed; without a deal the terms are the status quo (50 against 40 signed) and
    # the month the horizon
    assert found.loc[("terms", "a"), "now"] == pytest.approx(0.1)
    assert found.loc[("month", "b"), "now"] == pytest.approx(12.0 - RECORDS[1].month)
    assert set(found.loc["agreement"].index) == {"a", "b", "c", "d"}  # cases in both only
    assert (found.loc["agreement", "then"] == 0).all()
    assert (found.loc["agreement", "now"] == 1).all()  # certain and wrong: Brier 1
    assert found.loc[("holds", "a"), "now"] == 0.25  # no deal: P(holds) 1/2, it held


def test_a_deal_after_the_horizon_is_no_deal_within_it():
    late = _rows(True, months=13.0)
    assert model_forecast(late, SCALES, 12.0, np.random.default_rng(0)).p_agreement == 0.0
    assert model_forecast(late, SCALES, 13.0, np.random.default_rng(0)).p_agreement == 1.0


def test_a_case_that_failed_to_run_is_listed_and_not_scored():
    results = [_result(r, _perfect(r)) for r in RECORDS[:4]] + [_result(RECORDS[4], None)]
    forecasts = forecasts_table(results)
    assert "e" not in set(forecasts.case)
    scores = scores_table(forecasts, resamples=50)
    assert (scores[scores.quantity == "agreement"].cases == 4).all()


def test_terms_errors_are_on_a_0_1_scale_ordinal_by_position_categorical_0_or_1():
    ordinal = IssueScale("o", IssueKind.ordinal, ("a", "b", "c"), np.array([0.0, 25.0, 100.0]),
                         0.0, 100.0, "a")  # fmt: skip
    assert ordinal.error("b", "c") == 0.75
    assert ordinal.error(50.0, "b") == 0.25  # a median between levels, by position
    cat = IssueScale("k", IssueKind.categorical, ("x", "y"), np.array([np.nan, np.nan]),
                     np.nan, np.nan, "x")  # fmt: skip
    assert (cat.error("x", "x"), cat.error("x", "y")) == (0.0, 1.0)


def test_latin_hypercube_puts_one_draw_in_each_stratum():
    p = Parameter("a", 1.0, 0.0, 10.0, "x", False, "f:1")
    q = Parameter("b", 3, 1.0, 5.0, "x", True, "f:2")
    draws = latin_hypercube([p, q], 10, np.random.default_rng(1))
    strata = sorted(int(d["a"]) for d in draws)
    assert strata == list(range(10))
    assert all(isinstance(d["b"], int) and 1 <= d["b"] <= 5 for d in draws)


# --- the baselines on a real scenario ----------------------------------------------------


def test_the_baselines_on_dayton_are_their_closed_forms():
    cfg = plain(compose("dayton_1995"))
    found = baseline_terms(cfg)
    # the map: ideals 0, 70, 40, 49, 49, 55 with capability x renormalised salience
    assert found["weighted_median"]["territory"] == 49.0
    assert found["midpoint"]["territory"] == 35.0  # serbia 70 and bosnia 0
    assert found["status_quo"]["territory"] == 50.0  # the contact line
    assert found["status_quo"]["guarantees"] == 50.0  # un_force, the default level
    assert found["weighted_median"]["constitution"] == 50.0
    w = np.array([0.5 * 0.7 / 2.2, 0.8 * 0.7 / 1.7, 0.7 * 0.5 / 1.0, 1.0 * 0.4 / 1.0,
                  0.8 * 0.4 / 1.0, 0.5 * 0.4 / 1.0])  # fmt: skip
    x = np.array([0.0, 70.0, 40.0, 49.0, 49.0, 55.0])
    assert found["weighted_mean"]["territory"] == pytest.approx(w @ x / w.sum())
    scales = issue_scales(cfg)
    assert scales["constitution"].error("partition", "union_two_entities") == 0.5


# --- records ------------------------------------------------------------------------------


RECORD = """\
case: toy
talks_opened: 2001-01-01
horizon_months: 12
horizon_reason: null
agreement: true
signed: 2001-03-01
terms:
  border: 45.0
held_24_months: true
signatories: [north, south]
sources:
  - "A synthetic treaty, the Toy Accord, 1 Mar 2001"
notes: a test case
"""


def _toy_folder(root: Path, record: str = RECORD, name: str = "toy") -> Path:
    folder = root / "cases"
    (folder / "scenario").mkdir(parents=True)
    (folder / "records").mkdir()
    text = (Path(CONFIG_DIR) / "scenario" / "template.yaml").read_text()
    text = text.replace("scenario_name: template", f"scenario_name: {name}")
    (folder / "scenario" / f"{name}.yaml").write_text(text)
    (folder / "records" / f"{name}.yaml").write_text(record.replace("case: toy", f"case: {name}"))
    return folder


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        (("border: 45.0", "borderz: 45.0"), "terms.borderz", "an issue of the scenario"),
        (("border: 45.0", "border: 145.0"), "terms.border", "a number from 0 to 100"),
        (("[north, south]", "[north, west]"), "signatories[1]", "a party of the scenario"),
        (('sources:\n  - "A synthetic treaty, the Toy Accord, 1 Mar 2001"\n', ""), "sources",
         "a list of documents"),
        (("signed: 2001-03-01", "signed: 2003-03-01"), "signed", "months after it"),
        (("held_24_months: true", "held_24_months: null"), "held_24_months", "true or false"),
        (("horizon_months: 12", "horizon_months: 24"), "horizon_reason", "a reason"),
        (("notes: a test case", "note: a test case"), "note", "one of the keys"),
    ],
)  # fmt: skip
def test_a_bad_record_is_one_error_naming_the_file_and_the_key(tmp_path, change, key, allowed):
    folder = _toy_folder(tmp_path, RECORD.replace(*change))
    path = folder / "records" / "toy.yaml"
    with pytest.raises(ConfigError) as err:
        record = load_record(path)
        check_record(record, plain(compose("template")))
    assert err.value.key.endswith(f"toy.yaml: {key}")
    assert allowed in err.value.allowed
    assert "\n" not in str(err.value)


def test_a_scenario_without_a_record_or_a_shipped_name_is_refused(tmp_path):
    folder = _toy_folder(tmp_path)
    (folder / "records" / "toy.yaml").unlink()
    with pytest.raises(ConfigError, match=r"toy\.yaml: record: got None; allowed: a record file"):
        folder_cases(folder)
    other = _toy_folder(tmp_path / "x", name="dayton_1995")
    with pytest.raises(ConfigError, match="a name no shipped scenario has"):
        folder_cases(other)


def test_every_shipped_record_is_valid_against_its_scenario():
    shipped = case_files.shipped_cases()
    assert len(shipped) >= 2
    for case in shipped:
        record = load_record(case.record_path)
        check_record(record, plain(compose(case.name)))


# --- the command --------------------------------------------------------------------------


def _command(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sim.front.validate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


SMALL = ["settings=2", "replications=2", "as_written=2", "bootstrap=50"]


def test_the_command_scores_a_users_folder_and_writes_the_scorecard(tmp_path):
    folder = _toy_folder(tmp_path)
    failing = _toy_folder(tmp_path / "f", name="broken")
    shutil.copy(failing / "scenario" / "broken.yaml", folder / "scenario" / "broken.yaml")
    text = (folder / "scenario" / "broken.yaml").read_text()
    (folder / "scenario" / "broken.yaml").write_text(
        text.replace("aggressor: north", "aggressor: nobody")
    )
    shutil.copy(failing / "records" / "broken.yaml", folder / "records" / "broken.yaml")
    results = tmp_path / "results"
    done = _command(["shipped=false", f"cases_dir={folder}", f"results_dir={results}", *SMALL])
    assert done.returncode == 0, done.stderr
    assert "[1/2] broken: failed: war.aggressor" in done.stdout
    assert "[2/2] toy: ran" in done.stdout
    (written,) = (results / "validation").iterdir()
    assert sorted(p.name for p in written.iterdir()) == [
        "cases.parquet",
        "forecasts.parquet",
        "rows.parquet",
        "scorecard.md",
        "scorecard.png",
        "scores.parquet",
        "settings.parquet",
    ]
    markdown = (written / "scorecard.md").read_text()
    assert "| broken | signed month 1.9, held | **failed**: war.aggressor" in markdown
    assert "Brier score of an agreement within the horizon" in markdown
    rows = pd.read_parquet(written / "rows.parquet")
    assert set(rows.case) == {"toy"} and len(rows) == 2 + 2 * 2
    forecasts = pd.read_parquet(written / "forecasts.parquet")
    assert {"model", "model_as_written", "weighted_median", "always", "never"} <= set(
        forecasts.forecaster
    )
    status = pd.read_parquet(written / "cases.parquet").set_index("case")
    assert status.loc["broken", "ran"] == False  # noqa: E712 - numpy bool
    assert status.loc["toy", "ran"] == True  # noqa: E712


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["cases=[nowhere]"], "error: cases: got 'nowhere'; allowed: a case with a record"),
        (["settings=0"], "error: settings: got 0; allowed: an integer from 1 to 100,000"),
        (["shipped=false"], "error: shipped: got False; allowed: true, or false with cases_dir"),
        (["scenario=dayton_1995"], "error: scenario: got 'dayton_1995'; allowed: not set here"),
        (["settings"], "error: arguments: got 'settings'; allowed: options key=value"),
        (["jobs=-1"], "error: jobs: got -1; allowed: 0 (one per core) or an integer from 1"),
        (["compare=/nowhere"], "error: compare: got '/nowhere'; allowed: a scorecard folder"),
    ],
)
def test_bad_options_are_one_line_status_2_nothing_written(tmp_path, args, line):
    done = _command([*args, f"results_dir={tmp_path / 'results'}"])
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(line)
    assert files_under(tmp_path) == []


def test_cases_at_once_give_the_same_rows_and_a_comparison_with_the_earlier_run(tmp_path):
    folder = _toy_folder(tmp_path)
    for name in ("toy2", "toy3"):
        other = _toy_folder(tmp_path / name, name=name)
        shutil.copy(other / "scenario" / f"{name}.yaml", folder / "scenario")
        shutil.copy(other / "records" / f"{name}.yaml", folder / "records")
    common = ["shipped=false", f"cases_dir={folder}", *SMALL]
    one = _command([*common, "jobs=1", f"results_dir={tmp_path / 'one'}"])
    assert one.returncode == 0, one.stderr
    (first,) = (tmp_path / "one" / "validation").iterdir()
    two = _command([*common, "jobs=2", f"compare={first}", f"results_dir={tmp_path / 'two'}"])
    assert two.returncode == 0, two.stderr
    assert [line.split(":")[0] for line in two.stdout.splitlines() if line.startswith("[")] == [
        "[1/3] toy",
        "[2/3] toy2",
        "[3/3] toy3",
    ]
    (second,) = (tmp_path / "two" / "validation").iterdir()
    pd.testing.assert_frame_equal(
        pd.read_parquet(first / "rows.parquet"), pd.read_parquet(second / "rows.parquet")
    )
    assert f"Against {first}" in two.stdout and "0 case scores changed." in two.stdout
    comparison = pd.read_parquet(second / "comparison.parquet")
    assert set(comparison.case) == {"toy", "toy2", "toy3"}
    assert (comparison.then == comparison.now).all()
    assert "## Against an earlier scorecard" in (second / "scorecard.md").read_text()


def test_talks_the_model_ends_before_the_horizon_are_noted(tmp_path):
    folder = _toy_folder(tmp_path)
    done = _command(
        ["shipped=false", f"cases_dir={folder}", "max_rounds=5", f"results_dir={tmp_path}", *SMALL]
    )
    assert done.returncode == 0, done.stderr
    line = (
        "note: toy: the model's talks end at month 5 (max_rounds x war.months_per_round), "
        "before the record's horizon of 12 months"
    )
    assert line in done.stdout.splitlines()
    (written,) = (tmp_path / "validation").iterdir()
    assert "## Notes" in (written / "scorecard.md").read_text()


def test_a_bad_record_stops_the_command_before_anything_runs(tmp_path):
    folder = _toy_folder(tmp_path, RECORD.replace("border: 45.0", "borderz: 45.0"))
    done = _command(["shipped=false", f"cases_dir={folder}", f"results_dir={tmp_path / 'r'}"])
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {folder / 'records' / 'toy.yaml'}: terms.borderz: got 'borderz'; allowed: an "
        "issue of the scenario: ['border']"
    ]
    assert not (tmp_path / "r").exists()


# --- honesty: the model never reads a record ---------------------------------------------


ROWS_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import sim
    assert Path(sim.__file__).resolve().is_relative_to(Path.cwd().resolve()), sim.__file__
    from sim.experiment.cases import Case
    from sim.experiment.forecast import RunPlan, model_rows
    from sim.front.page_model import compose
    from sim.experiment.schema import CONFIG_DIR
    out = Path(sys.argv[1])
    for name in sys.argv[2:]:
        case = Case(name, Path(CONFIG_DIR), Path("nowhere") / f"{name}.yaml")
        rows, settings = model_rows(case, compose(name, ["stability.durability_periods=24"]),
                                    RunPlan(settings=2, replications=2, as_written=2))
        rows.to_pickle(out / f"{name}.rows.pkl")
        settings.to_pickle(out / f"{name}.settings.pkl")
    """
)


def test_every_case_run_with_the_records_moved_away_gives_the_same_rows(tmp_path):
    names = [c.name for c in case_files.shipped_cases()]
    copy = tmp_path / "project"
    for part in ("sim", "conf"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (copy / "validation").exists()  # the records are not there
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", ROWS_SCRIPT, str(out), *names],
        cwd=copy,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    plan = RunPlan(settings=2, replications=2, as_written=2)
    for name in names:
        case = next(c for c in case_files.shipped_cases() if c.name == name)
        rows, settings = model_rows(case, compose(name, ["stability.durability_periods=24"]), plan)
        pd.testing.assert_frame_equal(rows, pd.read_pickle(out / f"{name}.rows.pkl"))
        pd.testing.assert_frame_equal(settings, pd.read_pickle(out / f"{name}.settings.pkl"))
