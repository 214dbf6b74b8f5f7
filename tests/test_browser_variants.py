"""The Variants page in headless Chromium: Play advances the counter drawn in the browser, the masks change,
Pause stops on the frame on screen at the press and the engine goes back to it (Step goes on from it by
exactly one), and nothing errs. In CI (CI=true) a
missing Chromium or Playwright fails this test; elsewhere it is skipped with the reason."""
from __future__ import annotations

from tests import test_browser
from tests.test_browser import COUNTER, chromium, screenshot_path

server = test_browser.server  # the app on a free port, once for this module (a fixture)

# the conv masks in the view's shadow root: which tiles carry a large cross (a whole channel dropped)
WHOLE_DROPPED = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.masks svg');
    if (svg) return Array.from(svg.querySelectorAll('g[visibility]'), g => g.getAttribute('visibility')[0]).join('');
  }
  return null;
}"""


def step_shown(page) -> int:
    return int(page.evaluate(COUNTER).split()[1])


def test_the_variants_page_plays_pauses_on_the_engines_frame_and_steps(tmp_path, server):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        errors = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(f"{server}/Variants?family=conv&variant=channel&p=0.5")
        page.wait_for_function(f"({COUNTER})() === 'Iteration 0'", timeout=60_000)
        masks = {page.evaluate(WHOLE_DROPPED)}
        assert len(next(iter(masks))) == 24  # a tile per feature map: 8 + 16
        page.locator(".st-key-v_play button").click()
        page.wait_for_function(f"parseInt((({COUNTER})() || '').split(' ')[1]) >= 12", timeout=60_000)
        for _ in range(5):
            masks.add(page.evaluate(WHOLE_DROPPED))
            page.wait_for_timeout(150)
        assert len(masks) > 1 and any("v" in m for m in masks)  # fresh channel masks, some channels crossed out
        # Pause pressed as a mouse does (pointerdown, then click): the counter at that moment is where it stays
        at_press = page.evaluate(f"""() => {{ const b = document.querySelector('.st-key-v_pause button');
            b.dispatchEvent(new PointerEvent('pointerdown', {{bubbles: true}})); const shown = ({COUNTER})();
            b.click(); return shown; }}""")
        page.locator(".st-key-v_play button").wait_for(timeout=20_000)
        page.wait_for_timeout(800)
        held = step_shown(page)
        assert f"Iteration {held}" == at_press  # nothing drawn after the press: the engine went back to it
        page.wait_for_timeout(1000)
        assert step_shown(page) == held  # paused: nothing more is drawn
        page.locator(".st-key-v_step button").click()
        page.wait_for_function(f"({COUNTER})() !== 'Iteration {held}'", timeout=20_000)
        page.wait_for_timeout(800)
        assert step_shown(page) == held + 1  # Step goes on from the frame on screen: it was the engine's
        page.screenshot(path=str(screenshot_path(tmp_path)))
        assert errors == []


# ---------------------------------------------------------------- a hidden tab, and the presentation keys
browser = test_browser.browser  # one Chromium for the tests below (a fixture)
STEP = f"parseInt((({COUNTER})() || '').split(' ')[1])"
# Page Visibility as Chromium reports it for a background tab: headless Chromium never hides a page (not for
# another page brought to the front, nor a minimised window), so the test sets what the page reads and fires
# the event the browser would. Returns the counter at that moment.
SET_VISIBILITY = f"""(hidden) => {{
  Object.defineProperty(document, 'hidden', {{configurable: true, get: () => hidden}});
  Object.defineProperty(document, 'visibilityState', {{configurable: true, get: () => hidden ? 'hidden' : 'visible'}});
  document.dispatchEvent(new Event('visibilitychange'));
  return ({COUNTER})();
}}"""
# a key pressed as a clicker sends it, with the counter at that moment
PRESS = f"""(key) => {{
  document.body.dispatchEvent(new KeyboardEvent('keydown', {{key, bubbles: true, composed: true}}));
  return ({COUNTER})();
}}"""


def _playing(page, at_least: int) -> None:
    page.locator(".st-key-v_pause button").wait_for(timeout=30_000)
    page.wait_for_function(f"{STEP} >= {at_least}", timeout=60_000)


def _held(page, shown: str) -> int:
    """The server has paused (Play is back), and the counter is still the one at the press."""
    page.locator(".st-key-v_play button").wait_for(timeout=20_000)
    page.wait_for_timeout(800)
    held = step_shown(page)
    assert f"Iteration {held}" == shown  # nothing drawn after the press: the engine went back to it
    page.wait_for_timeout(1000)
    assert step_shown(page) == held  # and nothing after that
    return held


def _open(browser, server, query: str):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{server}/Variants?{query}")
    page.wait_for_function(f"({COUNTER})() === 'Iteration 0'", timeout=60_000)
    # the page's first run has finished (the paused panels are its last elements): keys pressed before then can
    # be lost in Streamlit (seen: 3 of 5 quick presses of → at the page's load)
    page.locator(".st-key-v_rescale").wait_for(state="attached", timeout=60_000)
    return page, errors


def test_a_hidden_tab_pauses_the_run_on_the_frame_on_screen_and_stays_paused(server, browser):
    page, errors = _open(browser, server, "family=dense&variant=standard&p=0.5")
    page.locator(".st-key-v_play button").click()
    _playing(page, 10)
    held = _held(page, page.evaluate(SET_VISIBILITY, True))
    shown_again = page.evaluate(SET_VISIBILITY, False)  # the tab is shown again: still paused, Play offered
    assert shown_again == f"Iteration {held}"
    page.wait_for_timeout(1000)
    assert step_shown(page) == held
    assert page.locator(".st-key-v_play button").is_visible() and page.locator(".st-key-v_pause button").count() == 0
    page.locator(".st-key-v_step button").click()  # the frame on screen was the engine's: Step goes on from it
    page.wait_for_function(f"{STEP} === {held + 1}", timeout=20_000)
    assert errors == []
    page.close()


def test_space_plays_and_pauses_on_the_frame_on_screen_and_the_arrow_steps_by_one(server, browser):
    page, errors = _open(browser, server, "family=recurrent&variant=variational&p=0.3")
    assert "Space: Play / Pause" in page.get_by_text("Keys:").inner_text()  # the page says its keys
    page.keyboard.press(" ")
    _playing(page, 10)
    held = _held(page, page.evaluate(PRESS, " "))
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"{STEP} === {held + 1}", timeout=20_000)
    page.wait_for_timeout(800)
    assert step_shown(page) == held + 1  # exactly one
    seed = page.locator(".st-key-v_seed input")  # typing in a number field: the keys are the field's
    seed.focus()
    for key in ("ArrowRight", " ", "."):
        seed.press(key)
    page.wait_for_timeout(800)
    assert step_shown(page) == held + 1 and page.locator(".st-key-v_play button").is_visible()
    assert errors == []
    page.close()
