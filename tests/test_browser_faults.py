"""Honest faults, in headless Chromium: a hidden tab pauses its run; while the server cannot be reached the
live view says "disconnected", not "playing"; a reload or a server restart that starts the run again says
so instead of silently showing iteration 0.

Each test starts its own server (one is stopped and started again). In CI (CI=true) a missing Chromium or
Playwright fails these tests; elsewhere they are skipped with the reason.
"""
from __future__ import annotations

import pytest
from test_browser import COUNTER, _free_port, chromium, start_app, stop_app

from dropviz.live.payload import LOOK

STEP = f"parseInt((({COUNTER})() || '').split(' ')[1])"
STATUS = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.diagram svg');
    if (svg) return Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join(' | ');
  }
  return '';
}"""
NOTICES = LOOK["notices"]


@pytest.fixture
def browser():
    with chromium() as browser:
        yield browser


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url)
    page.wait_for_function(f"({COUNTER})() !== null", timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    return page


def _play_to(page, steps: int) -> None:
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"{STEP} >= {steps}", timeout=30_000)


def test_a_hidden_tab_pauses_its_run(browser):
    port = _free_port()
    proc = start_app(port)
    try:
        page = _open(browser, f"http://127.0.0.1:{port}/")
        _play_to(page, 10)
        page.evaluate("""() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});
                                 document.dispatchEvent(new Event('visibilitychange')); }""")
        page.get_by_role("button", name="▶ Play").wait_for(timeout=20_000)  # the page says paused
        stopped = page.evaluate(STEP)
        page.wait_for_timeout(1500)
        assert page.evaluate(STEP) == stopped
        assert "paused" in page.evaluate(STATUS)
    finally:
        stop_app(proc)


def test_disconnected_reload_and_restart_are_said(browser):
    port = _free_port()
    proc = start_app(port)
    try:
        url = f"http://127.0.0.1:{port}/"
        page = _open(browser, url)
        _play_to(page, 10)
        page.get_by_role("button", name="❚❚ Pause").click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=20_000)
        # a reload starts a new session, and with it the run: said, until the run moves on
        page.reload()
        page.wait_for_function(f"({STATUS})().includes({NOTICES['reloaded'].split(':')[0]!r})", timeout=60_000)
        assert NOTICES["reloaded"].format(step=0) in page.evaluate(STATUS)
        _play_to(page, 5)
        assert "page reloaded" not in page.evaluate(STATUS)
        page.get_by_role("button", name="❚❚ Pause").click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=20_000)
        # the server goes away: "disconnected", not "playing" or "paused"
        stop_app(proc)
        page.wait_for_function(f"({STATUS})().includes({NOTICES['disconnected']!r})", timeout=30_000)
        # it comes back (a restart): the page reconnects, and the run that started again is said
        proc = start_app(port)
        page.wait_for_function(f"({STATUS})().includes('server restarted')", timeout=60_000)
        assert NOTICES["restarted"].format(step=0) in page.evaluate(STATUS)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        stop_app(proc)
