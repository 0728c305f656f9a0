"""The page's components (`sim.front.page`) rendered with `solara.render`, as Mesa's own
tests/visualization do: the controls come from the scenario's data, changing one rebuilds
the model, stepping changes the figures, a bad value shows the command line's line, the
page's deal is the command line's, and the sweep explorer replays a row."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

pytest.importorskip("solara", reason="the page extra is not installed (pip install -e .[page])")

import ipyvuetify as v
import ipywidgets
import numpy as np
import pandas as pd
import solara

from sim.experiment.jobs import run_sweep_job
from sim.front import page
from sim.front.labels import reason_label
from sim.front.page_model import (
    PageNegotiation,
    compose,
    model_controls,
    replay_overrides,
    scenario_names,
)
from tests.conftest import compose_config
from tests.helpers_hardening import run_result, run_sim


def _texts(rc, cls=v.Html) -> list[str]:
    return [str(c) for w in rc.find(cls).widgets for c in (w.children or []) if isinstance(c, str)]


def _by_class(rc, cls, name: str) -> list:
    return [w for w in rc.find(cls).widgets if name in (getattr(w, "class_", None) or "").split()]


def _images(rc) -> list[bytes]:
    return [bytes(w.value) for w in rc.find(ipywidgets.Image).widgets]


def _button(rc, label: str) -> v.Btn:
    return rc.find(v.Btn, children=[label]).widget


def _round(rc) -> str:
    (counter,) = _by_class(rc, v.Html, "round-counter")
    return counter.children[0]


@pytest.fixture
def rendered():
    assert page.wait_ready(timeout=120)  # the page's modules and first composition
    _box, rc = solara.render(page.Page(), handle_error=False)
    yield rc
    rc.close()


# --- controls from the scenario's data ------------------------------------------------------


@pytest.mark.parametrize("name", ["brussels_2025", "dayton_1995", "template"])
def test_the_controls_are_the_scenarios_parties_supporters_and_packages(name):
    cfg = compose(name)
    controls = model_controls(cfg, "calendar")
    assert {f"war.support.{s}" for s in cfg.war.support} <= set(controls)
    assert {f"war.capacity.{b}" for b in cfg.war.capacity} <= set(controls)
    assert {f"parties.{p}.strategy" for p in cfg.parties} <= set(controls)
    # bargaining=fighting ignores strategies: no menus for them
    fighting = model_controls(cfg, "fighting")
    assert not [key for key in fighting if key.endswith(".strategy")]
    assert set(fighting) == set(controls) - {f"parties.{p}.strategy" for p in cfg.parties}
    packages = {k for k, levels in cfg.guarantee_packages.items() if levels}
    assert set(controls["guarantees_offer"]["values"]) == {"all", *packages}
    for key in ("protocol", "seating", "bargaining", "seed", "max_rounds"):
        assert key in controls
    assert controls["seed"]["value"] == str(cfg.seed)
    assert controls["max_rounds"]["value"] == cfg.max_rounds
    # Mesa's conventions: keyword-only model parameters, model_params types it knows
    assert {c["type"] for c in controls.values()} <= {
        "Select",
        "SliderFloat",
        "SliderInt",
        "InputText",
    }


def notes(rendered) -> list[str]:
    """The note shown in place of strategy menus, if any."""
    texts = ["".join(map(str, w.children)) for w in rendered.find(v.Html).widgets]
    return [text for text in texts if text == page.FIGHTING_NOTE]


def test_the_page_shows_every_control(rendered):
    cfg = compose("brussels_2025")
    assert cfg.bargaining == "fighting"  # the default: no strategy menus, a note instead
    labels = {w.label for w in rendered.find(v.Select).widgets}
    assert {"scenario", "protocol", "seating", "bargaining", "guarantees on offer"} <= labels
    assert not [label for label in labels if label.startswith("strategy: ")]
    assert notes(rendered) == [page.FIGHTING_NOTE]
    rendered.find(v.Select, label="bargaining").widget.v_model = "calendar"
    labels = {w.label for w in rendered.find(v.Select).widgets}
    assert {f"strategy: {p}" for p in cfg.parties} <= labels
    assert notes(rendered) == []
    sliders = {w.label for w in rendered.find(v.Slider).widgets}
    assert {f"support: {s}" for s in cfg.war.support} <= sliders
    assert {f"capacity: {b}" for b in cfg.war.capacity} <= sliders
    assert "max rounds" in sliders
    assert rendered.find(v.TextField, label="seed").widget.v_model == "0"
    assert set(rendered.find(v.Select, label="scenario").widget.items) == set(scenario_names())


def test_choosing_a_scenario_shows_its_own_parties(rendered):
    rendered.find(v.Select, label="scenario").widget.v_model = "dayton_1995"
    rendered.find(v.Select, label="bargaining").widget.v_model = "calendar"
    cfg = compose("dayton_1995")
    labels = {w.label for w in rendered.find(v.Select).widgets}
    assert {f"strategy: {p}" for p in cfg.parties} <= labels
    assert not any(
        label.startswith("strategy: ") and label[10:] not in cfg.parties for label in labels
    )


# --- stepping and rebuilding -----------------------------------------------------------------


def test_stepping_changes_the_figures_and_the_end_shows_how_the_talks_ended(rendered):
    # the default talks end in Ukraine's walkout in round 3 (README)
    assert _round(rendered) == "round 0"
    before = _images(rendered)
    assert len(before) == 3 and all(b.startswith(b"\x89PNG") for b in before)
    _button(rendered, "Step").click()
    assert _round(rendered) == "round 1"
    after = _images(rendered)
    assert all(a != b for a, b in zip(before, after, strict=True))  # each figure redrawn
    _button(rendered, "Step").click()
    assert _round(rendered) == "round 2"
    assert _images(rendered) != after
    _button(rendered, "Run to end").click()
    (deal,) = _by_class(rendered, v.Html, "deal-text")
    model = PageNegotiation()
    model.run_to_end()
    assert _round(rendered) == f"round {model.round}"
    assert model.agreement is None and model.round == 3
    assert f"breakdown in round {model.round}: walked out: ukraine" in deal.children[0]
    levels = model.problem.space.levels_of(int(model.texts[0]))
    shown = ", ".join(f"{issue}={level}" for issue, level in levels.items())
    assert f"the last text on the table: {shown}" in deal.children[0]
    assert "stability:" not in deal.children[0]  # no deal, nothing to judge
    assert _button(rendered, "Step").disabled


def test_changing_a_control_rebuilds_the_model(rendered):
    _button(rendered, "Step").click()
    assert _round(rendered) == "round 1"
    rendered.find(v.Select, label="protocol").widget.v_model = "alternating_offers"
    assert _round(rendered) == "round 0"  # a new model
    _button(rendered, "Run to end").click()
    (deal,) = _by_class(rendered, v.Html, "deal-text")
    assert "| alternating_offers |" in deal.children[0]
    # a slider: the support of the scenario's first supporter
    (slider,) = [w for w in rendered.find(v.Slider).widgets if w.label.startswith("support: ")][:1]
    slider.v_model = 1.0
    assert _round(rendered) == "round 0"
    _button(rendered, "Run to end").click()
    supporter = slider.label.removeprefix("support: ")
    model = PageNegotiation(protocol="alternating_offers", **{f"war.support.{supporter}": 1.0})
    model.run_to_end()
    (deal,) = _by_class(rendered, v.Html, "deal-text")
    assert f"in round {model.round} " in deal.children[0]


def test_reset_starts_the_same_negotiation_again(rendered):
    _button(rendered, "Run to end").click()
    assert _round(rendered) != "round 0"
    _button(rendered, "Reset").click()
    assert _round(rendered) == "round 0"
    assert not _by_class(rendered, v.Html, "deal-text")
    _button(rendered, "Step").click()  # the new model steps, and the page follows
    assert _round(rendered) == "round 1"
    assert not _by_class(rendered, v.Html, "deal-text")  # the talks go on
    _button(rendered, "Run to end").click()
    assert _by_class(rendered, v.Html, "deal-text")


# --- live figures: kept artists, updated data ------------------------------------------------


@pytest.fixture
def built_pictures(monkeypatch) -> list:
    """Every `page.LivePictures` the page builds (one per model and pair of parties)."""
    assert page.wait_ready(timeout=120)
    page._SPARE.clear()  # the first visitor's model and figures, drawn at start-up
    built: list = []

    class Recorded(page.LivePictures):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr(page, "LivePictures", Recorded)
    return built


def test_a_step_updates_the_kept_figures_data(built_pictures, rendered):
    rendered.find(v.Select, label="bargaining").widget.v_model = "calendar"
    pictures = built_pictures[-1]
    count = len(built_pictures)
    figures = [pictures.trajectory.fig, pictures.bargaining.fig, pictures.contact_line.fig]
    utility, batna = next(iter(pictures.trajectory.lines.values()))
    artists = [utility, pictures.bargaining.trail, pictures.contact_line.line]
    for k in (1, 2, 3):
        _button(rendered, "Step").click()
        assert _round(rendered) == f"round {k}"
        assert len(built_pictures) == count  # no new figure, no new artists
        assert [pictures.trajectory.fig, pictures.bargaining.fig, pictures.contact_line.fig] == (
            figures
        )
        assert [utility, pictures.bargaining.trail, pictures.contact_line.line] == artists
        assert list(utility.get_xdata()) == list(range(1, k + 1))
        assert len(batna.get_xdata()) == k
        assert len(pictures.bargaining.trail.get_xdata()) == k
        assert list(pictures.contact_line.line.get_xdata()) == list(range(k + 1))  # from round 0
    # the background (axes, legend, outcome cloud, frontier) was drawn once
    assert pictures.bargaining.background_draws == 1
    assert pictures.trajectory.background_draws == 1  # the x axis has room for 10 rounds
    assert len(pictures.bargaining.ax.get_legend().get_texts()) > 5


def test_reset_and_a_new_control_rebuild_the_background(built_pictures, rendered):
    _button(rendered, "Step").click()
    first = built_pictures[-1]
    _button(rendered, "Reset").click()
    assert _round(rendered) == "round 0"
    again = built_pictures[-1]
    assert again is not first and again.trajectory.fig is first.trajectory.fig  # same figures
    assert again.bargaining.background_draws == 1  # drawn anew for the new model
    assert not any(len(u.get_xdata()) for u, _ in again.trajectory.lines.values())
    rendered.find(v.Select, label="protocol").widget.v_model = "alternating_offers"
    assert built_pictures[-1] is not again
    # another pair of parties: the bargaining picture is built again for it
    pair = rendered.find(v.Select, label="bargaining picture of").widget
    other = next(p for p in pair.items if p != pair.v_model)
    pair.v_model = other
    assert built_pictures[-1].bargaining.pair == tuple(other.split(" vs "))


def test_the_live_figures_at_the_end(rendered):
    _button(rendered, "Run to end").click()
    model = PageNegotiation()
    model.run_to_end()
    pictures = page.LivePictures(model, page.live_figures(), None)
    pictures.render(model)
    stars = pictures.trajectory.stars
    assert stars.get_visible() == (model.reason in ("agreement", "not_binding"))
    negotiated, _note = pictures.bargaining.points["negotiated"]
    assert negotiated.get_visible() == (model.agreement is not None)
    if model.agreement is not None:
        i, j = (model.problem.party_index(p) for p in pictures.bargaining.pair)
        U = model.problem.utilities
        assert negotiated.get_xydata()[0] == pytest.approx(
            [U[i, model.agreement], U[j, model.agreement]]
        )
    assert pictures.trajectory.end_note.get_text() == (
        f"{reason_label(model.reason)}, round {model.round}"
    )
    # titled with the scenario, the protocol, the seating and the outcome (sim.front.labels)
    assert pictures.trajectory.title.get_text() == page.trajectory_title(model)
    assert pictures.trajectory.title.get_text().startswith("brussels 2025: single text")


def test_the_page_shows_a_loading_bar_until_it_is_ready(monkeypatch):
    assert page.wait_ready(timeout=120)
    not_yet = threading.Event()
    monkeypatch.setattr(page, "_READY", not_yet)
    _box, rc = solara.render(page.Page(), handle_error=False)
    try:
        assert rc.find(v.ProgressLinear).widgets
        assert not rc.find(v.Btn, children=["Step"]).widgets
        not_yet.set()
        rc.find(v.Btn, children=["Step"]).wait_for(timeout=60)
        assert not rc.find(v.ProgressLinear).widgets
        assert _round(rc) == "round 0"
    finally:
        rc.close()


# --- bad values, same deal as the command line -------------------------------------------------


def test_a_bad_value_shows_the_command_lines_one_line(rendered, tmp_path):
    seed = rendered.find(v.TextField, label="seed").widget
    seed.v_model = "abc"
    seed.fire_event("keyup.enter", None)
    alerts = [t for w in rendered.find(v.Alert).widgets for t in w.children if isinstance(t, str)]
    cli = run_sim(["seed=abc", f"results_dir={tmp_path}"])
    assert cli.returncode == 2, cli.show()
    (line,) = cli.stderr.strip().splitlines()
    assert line.startswith("error: seed: ")
    assert line in alerts
    assert not any("Traceback" in t for t in _texts(rendered))
    seed.v_model = "3"
    seed.fire_event("keyup.enter", None)
    assert not rendered.find(v.Alert).widgets
    assert _round(rendered) == "round 0"


def test_the_pages_deal_is_the_command_lines(tmp_path):
    values = {"protocol": "alternating_offers", "seed": 3}
    model = PageNegotiation(scenario="dayton_1995", **values)
    model.run_to_end()
    row = model.row()
    cli = run_sim(
        ["scenario=dayton_1995", "protocol=alternating_offers", "seed=3", f"results_dir={tmp_path}"]
    )
    assert cli.returncode == 0, cli.show()
    expected = run_result(tmp_path).iloc[0]
    assert model.round > 1
    for column in ("outcome", "round", "reason", "binding", "robustness", "durability", "stable"):
        assert row[column] == expected[column], column
    for issue in model.problem.space.names:
        assert row[issue] == expected[issue]


# --- the sweep explorer ------------------------------------------------------------------------


@pytest.fixture
def small_sweep(tmp_path) -> Path:
    """Two jobs of two replications, written as a sweep writes them."""
    sweep = tmp_path / "sweeps" / "tiny"
    for protocol in ("single_text", "alternating_offers"):
        overrides = [f"protocol={protocol}", "replications=2", "max_rounds=20", "seed=1"]
        cfg = compose_config([*overrides, f"results_dir={tmp_path}"])
        run_sweep_job(cfg, sweep, overrides=" ".join(overrides))
    return tmp_path


def test_the_sweep_explorer_shows_heatmap_filters_and_replays_a_row(small_sweep):
    opened: list[dict] = []
    _box, rc = solara.render(page.SweepExplorer(small_sweep, opened.append), handle_error=False)
    try:
        assert rc.find(v.Select, label="sweep").widget.items == ["tiny"]
        assert len(_images(rc)) == 1  # the heatmap
        assert _by_class(rc, v.Html, "row-count")[0].children == ["4 rows"]
        rc.find(v.Select, label="filter on").widget.v_model = "protocol"
        rc.find(v.Select, label="value").widget.v_model = "alternating_offers"
        assert _by_class(rc, v.Html, "row-count")[0].children == ["2 rows"]
        chosen = rc.find(v.TextField, label="row").widget
        chosen.v_model = "1"
        chosen.fire_event("keyup.enter", None)
        _button(rc, "Open as a negotiation").click()
    finally:
        rc.close()
    (row,) = opened
    assert row["protocol"] == "alternating_offers" and row["replication"] == 1
    scenario, overrides, replication = replay_overrides(row)
    model = PageNegotiation(scenario=scenario, overrides=overrides, replication=replication)
    assert model.job == row["job"]  # the same config as the sweep's job
    model.run_to_end()
    replayed = model.row()
    for column in ("outcome", "round", "reason", "robustness", "durability"):
        assert replayed[column] == row[column] or (
            pd.isna(replayed[column]) and pd.isna(row[column])
        ), column


def test_no_sweeps_yet_says_how_to_make_one(tmp_path):
    _box, rc = solara.render(page.SweepExplorer(tmp_path, lambda row: None), handle_error=False)
    try:
        (note,) = _by_class(rc, v.Html, "no-sweeps")
        assert "./dev run -m sweep=smoke" in note.children[0]
    finally:
        rc.close()


def test_the_page_module_needs_no_display():
    assert os.environ.get("MPLBACKEND", "Agg").lower() == "agg"


def test_a_kept_composition_is_copied_for_each_caller():
    """`compose` keeps a composition for the same controls and hands out copies: what one
    caller changes (a model prunes its config in place) the next does not see."""
    first = compose("template", ["seed=5"])
    first.seed = 99
    second = compose("template", ["seed=5"])
    assert second.seed == 5 and second is not first


@pytest.mark.parametrize("values", [{}, {"batna": "static"}, {"bargaining": "calendar"}])
def test_round_0_shows_the_batnas_the_parties_open_with(values):
    """Before any round the BATNAs are those round 1 bargains with (the line has not
    moved), not zeros, so the bargaining picture shades only the zone above them."""
    model = PageNegotiation(**values)
    opening = model.reservations.copy()
    assert model.round == 0 and (opening != 0).all()
    model.step()
    assert model.round == 1
    np.testing.assert_allclose(model.reservations, opening)
