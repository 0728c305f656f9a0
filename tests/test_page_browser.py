"""The page end to end in a real browser: `./dev app` (`sim.front.serve`) as a subprocess on a free
port of 127.0.0.1, driven by headless Chromium (Debian's `chromium`, through playwright):
it loads offline, a slider moves, the model runs to the end, the deal panel shows the
deal, and the screenshots before and after differ and are not blank.

`./dev test` installs Debian's chromium when it is missing and it may (root with apt-get);
otherwise this test skips, naming what is missing."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
SERVER_START = 60.0  # seconds; the page itself starts in a few (benchmarks/page.py)


def _missing() -> str | None:
    for module in ("playwright", "solara", "PIL"):
        try:
            __import__(module)
        except ImportError:
            return f"python package {module!r} is not installed (pip install -e .[test])"
    if CHROMIUM is None:
        return "no chromium on PATH or at /usr/bin/chromium (apt-get install chromium, as root)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_page(port: int, results_dir: Path) -> subprocess.Popen:
    """The page on 127.0.0.1:`port`, as `./dev app` starts it (`sim.front.serve`)."""
    env = {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "MPLBACKEND": "Agg",
        "SIM_RESULTS_DIR": str(results_dir),
    }
    env.pop("HYDRA_FULL_ERROR", None)
    command = [sys.executable, "-m", "sim.front.serve", "--port", str(port)]  # as ./dev app
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, killed as one in teardown
    )


def wait_until_served(url: str, server: subprocess.Popen, timeout: float = SERVER_START) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the page's server exited:\n{server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the page was not served at {url} within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> str:
    """Stop the server's process group; its output."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    return server.stdout.read() if server.stdout else ""


@pytest.fixture
def page_url(tmp_path) -> Iterator[str]:
    port = free_port()
    server = start_page(port, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_served(url, server)
        yield url
    finally:
        stop(server)


def not_blank(png: bytes) -> bool:
    """More than a handful of colours and not one flat tone."""
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    return len(colours) > 50 and max(ImageStat.Stat(image).stddev) > 10


def test_the_page_in_a_real_browser(page_url):
    from playwright.sync_api import sync_playwright

    from sim.front.page_model import PageNegotiation

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            failed: list[str] = []
            page.on("pageerror", lambda exc: failed.append(str(exc)))
            page.goto(page_url)
            page.wait_for_selector("button.step", timeout=30_000)
            page.wait_for_function("document.querySelectorAll('img').length >= 3", timeout=30_000)
            page.wait_for_timeout(500)
            assert "round 0" in page.inner_text(".round-counter")
            before = page.screenshot(full_page=True)

            # move the first support slider to its end with the keyboard
            slider = page.locator(".v-slider").filter(has=page.locator("[role=slider]")).first
            label = page.locator(".v-input").filter(has=slider).first.inner_text()
            supporter = next(
                line.split("support: ", 1)[1].strip()
                for line in label.splitlines()
                if "support: " in line
            )
            thumb = slider.locator("[role=slider]")
            start = float(thumb.get_attribute("aria-valuenow"))
            thumb.focus()
            page.keyboard.press("End")
            page.wait_for_function(
                "v => document.querySelector('.v-slider [role=slider]')"
                ".getAttribute('aria-valuenow') != v",
                arg=str(thumb.get_attribute("aria-valuenow")) if start == 1.0 else str(start),
                timeout=10_000,
            )
            moved = float(thumb.get_attribute("aria-valuenow"))
            assert moved == 1.0 != start

            page.click("button.run")
            page.wait_for_selector(".deal-panel .deal-text", timeout=30_000)
            page.wait_for_timeout(500)
            text = page.inner_text(".deal-panel")
            after = page.screenshot(full_page=True)
            assert page.title() == "peace-sim"  # the tab's title, not Solara's
            # the outcome's text stays inside its card and the window
            fits = page.evaluate(
                "() => { const card = document.querySelector('.deal-panel');"
                " const pre = card.querySelector('.deal-text');"
                " const box = card.getBoundingClientRect(), inner = pre.getBoundingClientRect();"
                " return [card.scrollWidth <= card.clientWidth + 1,"
                " inner.right <= box.right + 1, box.right <= window.innerWidth + 1]; }"
            )
            assert fits == [True, True, True], fits
            assert not failed, failed
        finally:
            browser.close()

    model = PageNegotiation(**{f"war.support.{supporter}": moved})
    model.run_to_end()
    assert f"in round {model.round} " in text
    if model.agreement is not None:
        for issue, level in model.problem.space.levels_of(model.agreement).items():
            assert f"{issue}={level}" in text
    assert "utility" in text and "BATNA" in text
    assert before != after
    assert not_blank(before) and not_blank(after)
