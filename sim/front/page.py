"""The interactive page (`./dev app`): watch a negotiation round by round, explore a sweep.

Built with Solara and Mesa's visualization: the controls are Mesa's `UserInputs` over
`model_params` (`sim.front.page_model.model_controls`), the model a Mesa model with keyword-only
parameters (`sim.front.page_model.PageNegotiation`) and the live figures read its DataCollector.
Solara is used directly where SolaraViz cannot do the job: its controls are fixed when the
page starts (ours follow the chosen scenario's parties), it rebuilds the model only on
Reset, and its draggable grid needs a component that solara-assets does not bundle (an
empty plot area offline).

Run with `./dev app` (`solara run sim.front.page`); `Page` is the page. Importing this module is
light (solara only, which the server has already imported): what the page needs (Hydra,
Mesa, pandas, matplotlib) is imported in a background thread (`prepare`), which also
composes, builds and draws the default negotiation once, while the browser loads the page
and shows a loading bar; the negotiation tab is rendered when that is done (`wait_ready`).
"""

from __future__ import annotations

import functools
import html
import os
import shlex
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn off screen, in server threads

import solara
import solara.lab

from sim.front.page_sweeps import RESULTS_DIR, SweepExplorer

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.front.page_model import PageNegotiation

PLAY_INTERVAL = 0.15  # seconds between rounds while playing
PAGE_CSS = """
.deal-panel { max-width: 100%; overflow-x: hidden; }
.deal-panel pre, .deal-text { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 100%; }
"""  # the outcome's text wraps inside its card instead of running off the page
FIGHTING_NOTE = (
    "No strategy menus under bargaining=fighting: every party accepts what beats its "
    "believed value of fighting on. Choose bargaining=calendar to give each party a strategy."
)
DPI = 72


def build_model(
    scenario: str, overrides: str, replication: int, values: dict[str, Any]
) -> tuple[PageNegotiation | None, str | None]:
    """The page's model for these controls, or the command line's one-line error."""
    from sim.experiment.error_lines import one_line
    from sim.front.page_model import PageNegotiation

    spare = _take_spare(scenario, overrides, replication, values)
    if spare is not None:
        return spare, None
    try:
        return (
            PageNegotiation(
                scenario=scenario, overrides=overrides, replication=replication, **values
            ),
            None,
        )
    except Exception as exc:  # bad input: the CLI's one line, never a traceback
        return None, f"error: {one_line(exc)}"


# -- figures of the live model -------------------------------------------------------------
# The live figures are kept for the session (their canvases, and so matplotlib's cache of
# text sizes); for each model (a new one on Reset or when a control changes) each is built
# once by `sim.front.figures` (axes, labels, legend, what does not move: drawn once and kept as
# pixels), and each round only the data of the moving artists is updated and drawn over
# that background (`sim.front.figures.LiveFigure`). Margins are fixed (no tight bounding box).
SIZES = {"trajectory": (9.0, 4.2), "bargaining": (9.0, 5.4), "contact_line": (9.0, 3.8)}
MARGINS = {  # the trajectory's title: the scenario and settings, then the outcome
    "trajectory": {"left": 0.08, "right": 0.76, "bottom": 0.12, "top": 0.82},
    "bargaining": {"left": 0.02, "right": 0.66, "bottom": 0.1, "top": 0.92},
    "contact_line": {"left": 0.08, "right": 0.78, "bottom": 0.13, "top": 0.88},
}


def live_figures() -> dict[str, Figure]:
    """Three empty figures for a model's live pictures (not pyplot's: nothing to close)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figures = {name: Figure(figsize=size, dpi=DPI) for name, size in SIZES.items()}
    for fig in figures.values():
        FigureCanvasAgg(fig)  # its own canvas: the renderer is kept from one draw to the next
    return figures


class LivePictures:
    """The three live figures of one model (and one pair of parties for the bargaining
    picture), built once; `render` updates them to the model's round, as PNG."""

    def __init__(
        self, model: PageNegotiation, figures: dict[str, Figure], pair: tuple[str, str] | None
    ) -> None:
        from sim.front.figures import (
            LIVE_CONTACT_TITLE,
            LiveBargaining,
            LiveContactLine,
            LiveTrajectory,
        )
        from sim.front.labels import name

        self.model = model  # the one it draws
        cfg = model.config
        issue = str(cfg.war.territory_issue)
        self.issue = issue if issue in model.space.names else None
        anchors = dict(cfg.issues[issue].anchors) if issue in cfg.issues else {}
        self.trajectory = LiveTrajectory(
            figures["trajectory"],
            model.parties,
            MARGINS["trajectory"],
            protocol=str(cfg.protocol),
            title=trajectory_title(model),
        )
        self.bargaining = LiveBargaining(
            figures["bargaining"], model.scenarios[0], pair, MARGINS["bargaining"]
        )
        self.contact_line = LiveContactLine(
            figures["contact_line"],
            anchors,
            self.issue,
            MARGINS["contact_line"],
            title=f"{LIVE_CONTACT_TITLE} ({name(cfg.scenario_name)})",
        )

    def render(self, model: PageNegotiation) -> tuple[bytes, bytes, bytes]:
        """The three figures at the model's round, as PNG."""
        from sim.front.labels import reason_label

        trace = model.trace()
        ended = model.ended
        end = model.round if ended else None
        label = f"{reason_label(model.reason)}, round {model.round}" if ended else None
        self.trajectory.update(
            trace,
            end,
            label,
            str(model.reason) if ended else None,
            title=trajectory_title(model),
        )
        self.bargaining.update(
            model.reservations, model.agreement if ended else None, model.text_trail(), not ended
        )
        agreed = None
        if ended and model.agreement is not None and self.issue is not None:
            k = model.space.names.index(self.issue)
            agreed = float(model.space.grid_positions[model.agreement, k])
        self.contact_line.update(model.contact_lines(trace), end, agreed)
        return self.trajectory.png(), self.bargaining.png(), self.contact_line.png()


def trajectory_title(model: PageNegotiation) -> str:
    """The live trajectory's title: the scenario, protocol and seating, then the round or,
    once the talks have ended, the agreed terms or the end and why
    (`sim.front.labels.negotiation_title`, as negotiation.png's)."""
    from sim.front.labels import negotiation_title

    cfg = model.config
    row: dict[str, Any] = {
        "scenario": cfg.scenario_name,
        "protocol": cfg.protocol,
        "seating": cfg.seating,
    }
    if not model.ended:
        return negotiation_title(row) + f"\nround {model.round}: the talks go on"
    months = model.round * float(cfg.war.months_per_round)
    row.update(
        reason=str(model.reason),
        round=model.round,
        months=months,
        walked_out=",".join(model.walkouts),
    )
    if model.agreement is not None:
        row.update(model.space.levels_of(model.agreement))
    return negotiation_title(row, model.space.names, width=75)


# -- start-up: what the page needs, prepared in the background -----------------------------
_READY = threading.Event()  # set once `prepare` has run (or failed: the page then says why)
_SPARE: dict[str, Any] = {}  # the default negotiation built by `prepare`, for one visitor
_SPARE_LOCK = threading.Lock()


def prepare() -> None:
    """Import what the page needs (Hydra, Mesa, pandas, matplotlib), then compose, build
    and draw the default negotiation once (Hydra's first composition, matplotlib's fonts)
    and keep that model and its live figures for the first visitor. Runs in a background
    thread when this module is imported; a bad default is the page's to report. While it
    runs, Python switches threads more often, so that the server thread, which serves the
    page's assets, is not kept waiting for the interpreter lock by the imports."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0005))
    try:
        import matplotlib.pyplot  # noqa: F401
        import pandas  # noqa: F401
        from mesa.visualization.solara_viz import UserInputs  # noqa: F401

        import sim.experiment.error_lines
        import sim.front.cli
        import sim.front.figures  # noqa: F401
        from sim.front.page_model import DEFAULT_SCENARIO, PageNegotiation

        _base_config(DEFAULT_SCENARIO, "")
        model = PageNegotiation()
        figures = live_figures()
        pair = default_pair(model)
        pictures = LivePictures(model, figures, pair)
        pictures.render(model)  # the backgrounds drawn, the fonts loaded
        with _SPARE_LOCK:
            _SPARE.update(model=model, pictures=(id(model), pair, figures, pictures))
    except Exception as exc:  # the visitor's page composes again and shows the error
        print(f"page: the default negotiation could not be prepared: {exc}", file=sys.stderr)
    finally:
        sys.setswitchinterval(interval)
        _READY.set()


def _take_spare(
    scenario: str, overrides: str, replication: int, values: dict[str, Any]
) -> PageNegotiation | None:
    """The default negotiation `prepare` built, once, if these are the default controls."""
    from sim.front.page_model import DEFAULT_SCENARIO

    if (scenario, overrides, replication, values) != (DEFAULT_SCENARIO, "", 0, {}):
        return None
    with _SPARE_LOCK:
        return _SPARE.pop("model", None)


def _take_spare_pictures(
    model: PageNegotiation, pair: tuple[str, str] | None
) -> tuple[dict[str, Figure], LivePictures | None]:
    """The figures `prepare` drew, once, and its pictures if they are this model's; else
    new figures."""
    with _SPARE_LOCK:
        spare = _SPARE.pop("pictures", None)
    if spare is None:
        return live_figures(), None
    model_id, spare_pair, figures, pictures = spare
    return figures, pictures if (model_id, spare_pair) == (id(model), pair) else None


def default_pair(model: PageNegotiation) -> tuple[str, str]:
    """The parties of the bargaining picture at first: the war's two sides."""
    parties = list(model.parties)
    sides = model.problem.war_sides or (0, 1)
    return parties[sides[0]], parties[sides[1]]


def wait_ready(timeout: float | None = None) -> bool:
    """Wait until `prepare` has run; whether it has."""
    return _READY.wait(timeout)


threading.Thread(target=prepare, name="page-prepare", daemon=True).start()


def _table(frame: pd.DataFrame, name: str) -> None:
    """A small table as plain HTML (numbers to 3 decimals): cheaper to send and draw than
    a data grid."""
    markup = frame.to_html(
        index=False, float_format=lambda x: f"{x:.3f}", border=0, classes=["page-table", name]
    )
    _html(markup)


def _e(text: Any) -> str:
    return html.escape(str(text))


def _html(markup: str) -> None:
    """A line of HTML (solara.Markdown would load KaTeX from a CDN: not offline)."""
    solara.HTML(tag="div", unsafe_innerHTML=markup, style="margin: 6px 0")


# -- components -------------------------------------------------------------------------------


@solara.component
def LiveFigures(model: PageNegotiation, round_: int, pair: tuple[str, str] | None) -> None:
    """The three live figures; redrawn when the round (or the model) changes."""
    # kept for the session (the first visitor's drawn by `prepare`)
    figures, spare = solara.use_memo(lambda: _take_spare_pictures(model, pair), dependencies=[])
    pictures = solara.use_memo(
        lambda: (
            spare
            if spare is not None and (spare.model, spare.bargaining.pair) == (model, pair)
            else LivePictures(model, figures, pair)
        ),
        dependencies=[id(model), pair],
    )
    images = solara.use_memo(lambda: pictures.render(model), dependencies=[id(model), round_, pair])
    with solara.Column(classes=["live-figures"]):
        solara.Image(images[0], classes=["trajectory-figure"])
        solara.Image(images[1], classes=["bargaining-figure"])
        solara.Image(images[2], classes=["contact-line-figure"])


@solara.component
def DealPanel(model: PageNegotiation, round_: int) -> None:
    """At the end: the deal in words, binding or not and why, margins, stability."""
    from sim.front.cli import format_negotiation
    from sim.front.page_model import deal_levels, margins, stability_table, why_it_fails

    row = solara.use_memo(
        lambda: model.row() if model.ended else None, dependencies=[id(model), round_]
    )
    if row is None:
        solara.Text(f"Round {model.round}: the talks go on.", style={"color": "#555"})
        return
    with solara.Card("The outcome", classes=["deal-panel"]):
        levels = deal_levels(model)
        if levels:
            kind = "binding" if row["binding"] else "NOT binding"
            _html(
                f"<b>{kind} agreement</b> in round {row['round']} (month {row['months']:g}): "
                + "; ".join(f"{_e(issue)} = <b>{_e(level)}</b>" for issue, level in levels.items())
            )
            if not row["binding"]:
                solara.Text(
                    "Not binding: a party that controls one of its terms has not signed "
                    f"(walked out: {row['walked_out'] or 'none'})."
                )
        else:
            from sim.front.labels import reason_label

            ended = reason_label(row["reason"])
            _html(f"<b>No agreement</b> ({_e(ended)}, round {row['round']}).")
        solara.Preformatted(format_negotiation(model, row), class_="deal-text")
        _html("<b>Each party's margin over its BATNA</b>")
        _table(margins(row, model.parties), "margins")
        if row["agreement"]:
            verdict = "stable" if row["stable"] else "not stable"
            _html(f"<b>Stability: {verdict}</b>")
            _table(stability_table(row), "stability")
            for line in why_it_fails(row):
                _html(f"&bull; {_e(line)}")


@solara.component
def NegotiationView(
    scenario: str,
    set_scenario: Callable[[str], None],
    overrides: str,
    replication: int,
    values: dict[str, Any],
    set_values: Callable[[dict[str, Any]], None],
) -> None:
    """Controls, stepping, live figures and the deal panel of one negotiation."""
    generation, set_generation = solara.use_state(0)  # Reset: a new model, same controls
    model, error = solara.use_memo(
        lambda: build_model(scenario, overrides, replication, values),
        dependencies=[scenario, overrides, replication, tuple(sorted(values.items())), generation],
    )
    tick = solara.use_reactive(0)  # bumped after every step: read by Watch only
    playing = solara.use_reactive(False)
    pair_text, set_pair_text = solara.use_state("")

    def refresh() -> None:
        tick.value += 1

    def step() -> None:
        if model is not None and not model.ended:
            model.step()
            refresh()

    def run_to_end() -> None:
        if model is not None:
            model.run_to_end()
            refresh()

    def play() -> None:
        while playing.value and model is not None and not model.ended:
            model.step()
            refresh()
            time.sleep(PLAY_INTERVAL)
        playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value, id(model)], prefer_threaded=True)

    def on_change(name: str, value: Any) -> None:
        playing.value = False
        set_values({**values, name: value})

    def reset() -> None:
        playing.value = False
        set_generation(generation + 1)

    with solara.Columns([1, 3]):
        with solara.Column():
            Controls(scenario, set_scenario, overrides, replication, values, on_change)
        with solara.Column():
            Watch(model, error, tick, playing, step, run_to_end, reset, pair_text, set_pair_text)


@solara.component
def Watch(
    model: PageNegotiation | None,
    error: str | None,
    tick: solara.Reactive[int],
    playing: solara.Reactive[bool],
    step: Callable[[], None],
    run_to_end: Callable[[], None],
    reset: Callable[[], None],
    pair_text: str,
    set_pair_text: Callable[[str], None],
) -> None:
    """Stepping buttons, the deal panel and the live figures (or the one-line error); only
    this part of the page is rendered again after a step (`tick` is read here)."""
    round_ = tick.value
    if error is not None or model is None:
        solara.Error(error or "error: no model", classes=["page-error"])
        return
    parties = list(model.parties)
    pairs = [f"{a} vs {b}" for a in parties for b in parties if a != b]
    chosen = pair_text if pair_text in pairs else " vs ".join(default_pair(model))
    pair = tuple(chosen.split(" vs "))
    with solara.Row(classes=["stepping"]):
        solara.Button(
            "Step", on_click=step, disabled=model.ended or playing.value, classes=["step"]
        )
        solara.Button(
            "Pause" if playing.value else "Play",
            on_click=lambda: playing.set(not playing.value),
            disabled=model.ended,
            classes=["play"],
        )
        solara.Button("Run to end", on_click=run_to_end, disabled=model.ended, classes=["run"])
        solara.Button("Reset", on_click=reset, classes=["reset"])
        solara.Select("bargaining picture of", value=chosen, values=pairs, on_value=set_pair_text)
        solara.Text(f"round {model.round}", classes=["round-counter"])
    DealPanel(model, round_)
    LiveFigures(model, round_, pair)


@solara.component
def Controls(
    scenario: str,
    set_scenario: Callable[[str], None],
    overrides: str,
    replication: int,
    values: dict[str, Any],
    on_change: Callable[[str, Any], None],
) -> None:
    """The scenario and its model parameters (Mesa's `UserInputs` over `model_controls`)."""
    from mesa.visualization.solara_viz import UserInputs

    from sim.front.page_model import model_controls, scenario_names

    base = solara.use_memo(
        lambda: _base_config(scenario, overrides), dependencies=[scenario, overrides]
    )
    with solara.Card("Scenario"):
        solara.Select("scenario", value=scenario, values=scenario_names(), on_value=set_scenario)
        if overrides:
            solara.Text(f"replaying {overrides}, replication {replication}")
    with solara.Card("Model parameters", classes=["model-parameters"]):
        if isinstance(base, str):
            solara.Error(base)
            return
        bargaining = str(values.get("bargaining", base.bargaining))
        controls = model_controls(base, bargaining)
        for key, value in values.items():
            if key in controls:
                controls[key] = {**controls[key], "value": value}
        UserInputs(controls, on_change=on_change)
        if bargaining == "fighting":  # sim.core.settings.Bargaining.fighting
            solara.Text(FIGHTING_NOTE, classes=["strategies-note"], style={"color": "#555"})


@functools.lru_cache(maxsize=16)
def _base_config(scenario: str, overrides: str) -> Any:
    """The composed config the controls are read from (read only: kept for the next
    visitor), or the one-line error."""
    from sim.experiment.error_lines import one_line
    from sim.front.page_model import compose

    try:
        return compose(scenario, shlex.split(overrides))
    except Exception as exc:
        return f"error: {one_line(exc)}"


@solara.component
def Page() -> None:
    """The page: a loading bar until `prepare` has run, then a negotiation tab and a sweep
    explorer tab."""
    ready_at_first = _READY.is_set()
    waiting = solara.lab.use_task(
        lambda: _READY.wait(), dependencies=[ready_at_first], prefer_threaded=True
    )
    solara.Title("peace-sim")
    solara.Style(PAGE_CSS)
    with solara.AppBar():
        solara.AppBarTitle("peace-sim: a negotiation, round by round")
    if ready_at_first or waiting.finished:
        Tabs()
        return
    with solara.Column(classes=["page-loading"]):
        solara.ProgressLinear(True)
        solara.Text("Loading the simulator (Hydra, Mesa, matplotlib) ...")


@solara.component
def Tabs() -> None:
    """A negotiation tab and a sweep explorer tab."""
    from sim.front.page_model import DEFAULT_SCENARIO, replay_overrides

    scenario, set_scenario_state = solara.use_state(DEFAULT_SCENARIO)
    overrides, set_overrides = solara.use_state("")
    replication, set_replication = solara.use_state(0)
    values, set_values = solara.use_state({})
    tab, set_tab = solara.use_state(0)

    def set_scenario(name: str) -> None:
        set_scenario_state(name)
        set_overrides("")
        set_replication(0)
        set_values({})

    def open_row(row: dict[str, Any]) -> None:
        name, text, r = replay_overrides(row)
        set_scenario_state(name)
        set_overrides(text)
        set_replication(r)
        set_values({})
        set_tab(0)

    with solara.lab.Tabs(value=tab, on_value=set_tab):
        with solara.lab.Tab("Negotiation"):
            NegotiationView(scenario, set_scenario, overrides, replication, values, set_values)
        with solara.lab.Tab("Sweeps"):
            SweepExplorer(RESULTS_DIR, open_row)
