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
