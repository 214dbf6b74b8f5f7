"""The Lesson page in headless Chromium on a 1280x720 projector: every step fits one screen, its smallest text
is at least 16 px, nothing failed, and PageDown / PageUp (a presentation clicker) move through the steps.

One Streamlit server and one browser for the module. In CI (CI=true) a missing Chromium or Playwright fails
these tests; elsewhere they are skipped with the reason.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_browser import _free_port, _need, start_app, stop_app

from dropviz.lesson import STEPS

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PROJECTOR = {"width": 1280, "height": 720}
SMALLEST = 16  # px: the smallest text a back row can read on a 1280x720 projector
FAILURES = ("Traceback", "Something went wrong", "could not be drawn", "BidiComponent Error", "is not valid")

# Both drawn and laid out: the live view's diagram and curves (in its shadow root), and the step's panel.
DRAWN = """() => {
  const live = Array.from(document.querySelectorAll('[data-testid="stBidiComponentIsolated"]'))
    .map(h => h.shadowRoot).find(r => r && r.querySelector('.diagram svg text') && r.querySelector('.curves svg'));
  return !!live && !!document.querySelector('.js-plotly-plot .main-svg text');
}"""
# Every visible text on the page, in the light DOM and in shadow roots, with its size in CSS pixels as drawn
# (an SVG text's font size times its scale on screen) and its box; and every scrolling element that scrolls.
MEASURE = """() => {
  const texts = [];
  const visit = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent.trim();
      const e = n.parentElement;
      if (!text || !e || e.closest('style, script, title')) continue;
      const r = e.getBoundingClientRect();
      if (!r.width || !r.height || r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth) continue;
      const cs = getComputedStyle(e);
      if (cs.visibility === 'hidden' || cs.opacity === '0' || e.closest('[aria-hidden="true"]')) continue;
      let px = parseFloat(cs.fontSize);
      if (e instanceof SVGElement && e.getScreenCTM) { const m = e.getScreenCTM(); if (m) px *= Math.hypot(m.a, m.b); }
      texts.push({text: text.slice(0, 60), px: Math.round(px * 10) / 10, right: r.right, bottom: r.bottom});
    }
    root.querySelectorAll('*').forEach(x => { if (x.shadowRoot) visit(x.shadowRoot); });
  };
  visit(document.body);
  const scrolls = [document.scrollingElement, ...document.querySelectorAll('*')].filter(e => e &&
      e.scrollHeight > e.clientHeight + 1 && (e === document.scrollingElement ||
      ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)))
    .map(e => `${e.getAttribute('data-testid') || e.tagName}: ${e.scrollHeight} > ${e.clientHeight}`);
  return {texts, scrolls, width: innerWidth, height: innerHeight};
}"""
VISIBLE_RUNNING = """() => Array.from(document.querySelectorAll(
  '[data-testid="stStatusWidget"], [data-testid="stStatusWidget"] *'))
  .some(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
               getComputedStyle(e).visibility !== 'hidden'; })"""


@pytest.fixture(scope="module")
def browser_page():
    """One server, one browser, one 1280x720 page for every test of this module."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright Python package is not installed")
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    port = _free_port()
    proc = start_app(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=PROJECTOR)
            yield page, f"http://127.0.0.1:{port}"
            browser.close()
    finally:
        stop_app(proc)


def wait_for_step(page, number: int) -> None:
    page.get_by_text(f"Step {number} of {len(STEPS)}", exact=True).wait_for(timeout=60_000)
    page.get_by_text(STEPS[number - 1].title, exact=True).wait_for(timeout=10_000)
    page.wait_for_function(DRAWN, timeout=60_000)
    page.wait_for_timeout(400)  # the last redraws settle


def check_screen(page, number: int) -> float:
    """Fits without scrolling, no text off the screen or under SMALLEST px, no failure; returns the smallest size."""
    m = page.evaluate(MEASURE)
    assert not m["scrolls"], f"step {number} scrolls at 1280x720: {m['scrolls']}"
    off = [t["text"] for t in m["texts"] if t["right"] > m["width"] + 1 or t["bottom"] > m["height"] + 1]
    assert not off, f"step {number}: text off the screen: {off[:8]}"
    small = sorted((t for t in m["texts"] if t["px"] < SMALLEST), key=lambda t: t["px"])
    assert not small, f"step {number}: text under {SMALLEST} px: {[(t['text'], t['px']) for t in small[:8]]}"
    words = " ".join(t["text"] for t in m["texts"])
    assert not [f for f in FAILURES if f in words], f"step {number}: {words[:300]}"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert not page.evaluate(VISIBLE_RUNNING), f"step {number}: Streamlit's running indicator or Stop button shows"
    return min(t["px"] for t in m["texts"])


def test_every_step_fits_the_projector_with_text_of_16_px_or_more(browser_page):
    page, base = browser_page
    smallest = {}
    for number in range(1, len(STEPS) + 1):
        page.goto(f"{base}/Lesson?step={number}")
        wait_for_step(page, number)
        smallest[number] = check_screen(page, number)
        shot = os.environ.get("DROPVIZ_LESSON_SCREENSHOTS")
        if shot:  # a folder: one screenshot per step, to look at
            page.screenshot(path=str(Path(shot) / f"lesson-step{number}.png"))
    print("smallest text per step (px):", smallest)


def test_pagedown_and_pageup_move_through_the_steps_and_the_url_follows(browser_page):
    page, base = browser_page
    page.goto(f"{base}/Lesson?step=3")
    wait_for_step(page, 3)
    page.locator("body").click(position={"x": 5, "y": 700})  # focus on the page, as after a click on a slide
    page.keyboard.press("PageDown")
    wait_for_step(page, 4)
    page.wait_for_url(re.compile(r"/Lesson\?step=4$"), timeout=10_000)
    check_screen(page, 4)
    page.keyboard.press("PageUp")
    wait_for_step(page, 3)
    page.wait_for_url(re.compile(r"/Lesson\?step=3$"), timeout=10_000)
