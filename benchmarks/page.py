"""The page's speed (`./dev app`, issue 19's targets): the time to serve the first page,
and the time a step takes to render.

1. start: `solara run sim.front.page` as `./dev app` starts it, on a free port; seconds until the
   server answers, and (with playwright and Debian's chromium, launched before the server
   as a visitor's browser is already open) until a browser first
   paints the page (its loading bar, or the page itself) and until it shows the page
   ready: the Step button and the three figures (target: under 10 s after setup).
2. step, in the browser: the last Step on the default scenario (its talks end in round
   3), from the click until the deal panel shows (the figures and the deal panel drawn),
   after Reset and the rounds before it, a few times (target: under 0.5 s); then Step
   round after round on `bargaining=calendar` (chosen in the page's select), until the
   round counter shows the next round. Each is measured two ways, in turn: in the page
   (`IN_PAGE`: from the click event the button receives until the change is painted, what
   a visitor waits) and through Playwright's `click` (which first waits for the button to
   be visible, stable over two animation frames and hit, ~50-100 ms of its own).
3. step, in-process: `solara.render` of the page, Step clicked round after round on a
   longer negotiation (`bargaining=calendar`), wall and CPU time per step (the model's
   step, three figures as PNG, the widgets' update); then Step on the default scenario
   after Reset (its last round: the deal panel too).

    ./dev python benchmarks/page.py [--quick]

Wall times on a shared machine include other work; CPU time does not.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

from tests.test_page_browser import (  # noqa: E402
    CHROMIUM,
    free_port,
    start_page,
    stop,
    wait_until_served,
)

# From the click event a button receives until `done` (a JS expression) holds and the
# change is painted (the frame after it), in ms: what a visitor waits, without Playwright's
# actionability checks before its own click.
IN_PAGE = """(done) => new Promise(resolve => {
  const start = performance.now();
  const check = () => {
    if (!eval(done)) return false;
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
    return true;
  };
  const watch = new MutationObserver(() => { if (check()) watch.disconnect(); });
  watch.observe(document.body, {childList: true, subtree: true, characterData: true});
  document.querySelector('button.step').click();
})"""


def in_page_step(page: Any, done: str) -> float:
    """Seconds from a click on Step until `done` holds and is painted (`IN_PAGE`)."""
    return float(page.evaluate(IN_PAGE, done)) / 1000


def serve_and_step(repeats: int) -> dict[str, Any]:
    """Print the start and browser-step figures; return them (seconds: `served`, `painted`,
    `shown`; lists: `step` (Playwright's click) and `step_in_page` (`IN_PAGE`), `calendar`
    both by way; `missing`: what kept the browser figures out)."""
    import contextlib
    import tempfile

    figures: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        page = None  # a browser already open, as a visitor's is (its start is not the page's)
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            print("(no playwright: the browser figures are skipped)")
            figures["missing"] = "playwright"
        else:
            if CHROMIUM is None:
                print("(no chromium: the browser figures are skipped)")
                figures["missing"] = "chromium"
            else:
                p = stack.enter_context(sync_playwright())
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                stack.callback(browser.close)
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        server = start_page(port, Path(tempfile.mkdtemp()))
        stack.callback(stop, server)
        wait_until_served(url, server)
        served = figures["served"] = time.perf_counter() - started
        print(f"start: the server answers after {served:.2f} s")
        if page is None:
            return figures
        page.goto(url)
        page.wait_for_selector(".page-loading, button.step", timeout=60_000)
        painted = figures["painted"] = time.perf_counter() - started
        print(f"start: a browser first paints the page after {painted:.2f} s")
        page.wait_for_selector("button.step", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('img').length >= 3")
        shown = figures["shown"] = time.perf_counter() - started
        print(f"start: a browser shows the page ready after {shown:.2f} s (target < 10 s)")
        last = last_round()
        times = figures["step"] = []  # through Playwright's click
        in_page = figures["step_in_page"] = []
        for k in range(2 * repeats):
            if k:
                page.click("button.reset")
                page.wait_for_selector(".deal-panel", state="detached")
            for r in range(1, last):  # the rounds before the last, untimed
                page.wait_for_timeout(200)
                page.click("button.step")
                page.wait_for_function(
                    f"document.querySelector('.round-counter').innerText.includes('round {r}')",
                    timeout=60_000,
                )
            page.wait_for_timeout(300)
            if k % 2:
                in_page.append(in_page_step(page, "document.querySelector('.deal-panel')"))
                continue
            t = time.perf_counter()
            page.click("button.step")
            page.wait_for_selector(".deal-panel", timeout=60_000)
            times.append(time.perf_counter() - t)
        print(
            f"step in the browser (default scenario, its last round {last}, deal panel included): "
            f"in the page median {statistics.median(in_page):.3f} s, max {max(in_page):.3f} s "
            f"over {len(in_page)}; through Playwright's click first {times[0]:.3f} s, then "
            f"median {statistics.median(times[1:]):.3f} s, max {max(times[1:]):.3f} s over "
            f"{repeats - 1} (target < 0.5 s)"
        )
        figures["calendar"] = calendar_steps_in_the_browser(page, repeats)
    return figures


def last_round() -> int:
    """The round the default scenario's talks end in, as the page runs them."""
    from sim.front.page_model import PageNegotiation

    model = PageNegotiation()
    model.run_to_end()
    return int(model.round)


def calendar_steps_in_the_browser(page: Any, repeats: int) -> dict[str, list[float]] | None:
    """Step round after round on `bargaining=calendar` (chosen in its select): from the
    click until the round counter shows the next round, `repeats` times in the page and
    as many through Playwright's click, in turn; the times by way ("in_page", "click";
    None: no select)."""
    try:
        select = page.locator(".v-select").filter(
            has=page.locator("label", has_text=re.compile(r"^bargaining$"))
        )
        select.locator(".v-select__slot").click()
        page.locator(".menuable__content__active .v-list-item", has_text="calendar").click()
        page.wait_for_function(
            "document.querySelector('.round-counter').innerText.includes('round 0')"
        )
        page.wait_for_timeout(1000)
    except Exception as exc:  # the select's markup is Vuetify's: say so, do not fail
        print(f"(could not choose bargaining=calendar in the browser: {exc})")
        return None
    times, in_page = [], []
    for k in range(1, 2 * repeats + 1):
        page.wait_for_timeout(200)
        shows = f"document.querySelector('.round-counter').innerText.includes('round {k}')"
        if k % 2 == 0:
            in_page.append(in_page_step(page, shows))
            continue
        t = time.perf_counter()
        page.click("button.step")
        page.wait_for_function(shows, timeout=60_000)
        times.append(time.perf_counter() - t)
    print(
        f"step in the browser (bargaining=calendar, rounds 1-{2 * repeats}, until the round "
        f"shows): in the page median {statistics.median(in_page):.3f} s, max "
        f"{max(in_page):.3f} s; through Playwright's click median {statistics.median(times):.3f} "
        f"s, max {max(times):.3f} s (target < 0.5 s)"
    )
    return {"click": times, "in_page": in_page}


def steps_in_process(steps: int) -> None:
    import ipyvuetify as v
    import solara

    from sim.front import page

    if hasattr(page, "wait_ready"):
        page.wait_ready()
    _, rc = solara.render(page.Page(), handle_error=False)
    rc.find(v.Select, label="bargaining").widget.v_model = "calendar"
    button = rc.find(v.Btn, children=["Step"]).widget
    button.click()  # warm-up: first figures, caches
    walls, cpus = [], []
    for _ in range(steps):
        w, c = time.perf_counter(), time.process_time()
        button.click()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    rc.close()
    print(
        f"step in-process (bargaining=calendar, {steps} rounds, figures and widgets): wall median "
        f"{statistics.median(walls):.3f} s (max {max(walls):.3f}), CPU median "
        f"{statistics.median(cpus):.3f} s (max {max(cpus):.3f})"
    )
    _, rc = solara.render(page.Page(), handle_error=False)
    walls, cpus = [], []
    last = last_round()
    for _ in range(max(3, steps // 4)):
        rc.find(v.Btn, children=["Reset"]).widget.click()
        for _ in range(last - 1):  # the rounds before the last, untimed
            rc.find(v.Btn, children=["Step"]).widget.click()
        w, c = time.perf_counter(), time.process_time()
        rc.find(v.Btn, children=["Step"]).widget.click()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    rc.close()
    print(
        f"step in-process (default scenario, its last round, deal panel included): wall median "
        f"{statistics.median(walls):.3f} s (max {max(walls):.3f}), CPU median "
        f"{statistics.median(cpus):.3f} s (max {max(cpus):.3f}) over {len(walls)}"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    serve_and_step(3 if quick else 8)
    steps_in_process(5 if quick else 20)


if __name__ == "__main__":
    main()
