"""The real page in headless Chromium: press Play, the counter advances and the diagram changes; the
presenter view fits a 1280x720 projector with big text, and the keys drive it.

One server and one browser for the module. In CI (CI=true) a missing Chromium or Playwright fails these
tests; elsewhere they are skipped with the reason.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# JavaScript run in the page: the live view lives in a shadow root
COUNTER = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const t = host.shadowRoot && host.shadowRoot.querySelector('[data-testid="iteration-counter"]');
    if (t) return t.textContent;
  }
  return null;
}"""
CURVE_TEXTS = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.curves svg');
    if (svg) return Array.from(svg.querySelectorAll('text')).map(t => t.textContent);
  }
  return null;
}"""
DROPPED_PATTERN = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.diagram svg');
    if (svg) return Array.from(svg.querySelectorAll('path')).map(p => p.getAttribute('visibility')[0]).join('');
  }
  return null;
}"""


def _need(condition: bool, reason: str):
    if condition:
        return
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):  # CI systems spell it differently
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, script: str = "app.py", cwd: Path = ROOT) -> subprocess.Popen:
    """`streamlit run app.py` (or another script, in another checkout) on a free port; returns once the
    server answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("streamlit exited: " + proc.stdout.read().decode(errors="replace"))
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start within 60 s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def screenshot_path(tmp_path: Path) -> Path:
    """DROPVIZ_SCREENSHOT if set, else a pytest temporary file: the curated assets/screenshot.png stays as it is."""
    return Path(os.environ.get("DROPVIZ_SCREENSHOT") or tmp_path / "screenshot.png")


def _panel_rows(page) -> int:
    """In how many rows the four Plotly panels are laid out."""
    tops = [page.locator(f".st-key-panel_{name}").bounding_box()["y"]
            for name in ("data", "rescale", "gradient", "curves")]
    return len({round(t) for t in tops})


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = start_app(port)
    yield f"http://127.0.0.1:{port}"
    stop_app(proc)


@contextlib.contextmanager
def chromium():
    """Headless Chromium, or a skip (a failure in CI) saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright Python package is not installed")
    _need(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as browser:
        yield browser


def test_play_advances_counter_and_diagram_without_errors(tmp_path, server, browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/")
    page.wait_for_function(f"({COUNTER})() === 'Iteration 0'", timeout=60_000)
    before = page.evaluate(DROPPED_PATTERN)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"parseInt((({COUNTER})() || '').split(' ')[1]) >= 20", timeout=60_000)
    page.wait_for_timeout(1500)  # let the slower panels draw too
    after = page.evaluate(DROPPED_PATTERN)
    assert before and after and before != after  # new masks: neurons dropped and came back
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; })")
    page.wait_for_timeout(300)
    shot = screenshot_path(tmp_path)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    assert page.get_by_role("link", name="Live view").count() == 1  # the sidebar names the pages
    assert page.get_by_role("link", name="Experiments").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("BidiComponent Error").count() == 0
    assert page.get_by_text("could not be drawn").count() == 0
    assert page.get_by_role("button", name="❚❚ Pause").count() == 1
    # the live chart draws the payload's words: legend, gap line, axis title
    curve_texts = page.evaluate(CURVE_TEXTS)
    assert {"test", "train", "twin without dropout (p = 0)", "iteration"} <= set(curve_texts)
    assert any(t.startswith("test loss, this run − twin: ") for t in curve_texts)
    page.get_by_role("button", name="❚❚ Pause").click()
    # wide page: the Plotly panels two per row; a 1280x720 projector: one per row
    assert _panel_rows(page) == 2
    projector = browser.new_page(viewport={"width": 1280, "height": 720})
    projector.goto(f"{server}/")
    projector.locator(".st-key-panel_rescale .js-plotly-plot").wait_for(timeout=60_000)
    assert _panel_rows(projector) == 4
    # a shared link straight to the Experiments page names the pages the same way
    direct = browser.new_page(viewport={"width": 1600, "height": 1000})
    direct.goto(f"{server}/Experiments")
    direct.get_by_role("button", name="Run").wait_for(timeout=60_000)
    assert direct.get_by_role("link", name="Live view").count() == 1
    assert direct.locator('[data-testid="stException"]').count() == 0
    for p in (page, projector, direct):
        p.close()


# ---------------------------------------------------------------- the presenter view
# every visible text of the diagram, the live curves and the Plotly panel: [height of its box, its text]
TEXT_BOXES = """() => {
  const out = [];
  const add = (t) => {
    const r = t.getBoundingClientRect();
    const s = getComputedStyle(t);
    if (!t.textContent.trim() || r.width === 0 || s.visibility === 'hidden' || s.display === 'none') return;
    if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) return;
    out.push([r.height, t.textContent.slice(0, 40)]);
  };
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    if (host.shadowRoot) host.shadowRoot.querySelectorAll('.diagram svg text, .curves svg text').forEach(add);
  }
  document.querySelectorAll('.js-plotly-plot svg text').forEach(add);
  return out;
}"""
STEP = f"parseInt((({COUNTER})() || '').split(' ')[1])"
P_SHOWN = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const svg = host.shadowRoot && host.shadowRoot.querySelector('.diagram svg');
    if (!svg) continue;
    const texts = Array.from(svg.querySelectorAll('text')).map(t => t.textContent);
    return texts[texts.indexOf('layer 1') + 1];
  }
  return null;
}"""


SLIDER_P = "() => document.querySelector('.st-key-w_p input').value"  # Streamlit 1.67: an input of type range


def _present(browser, server, width, height, query=""):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server}/?present=1{query}")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the window size reported, the panel sized to it
    return page


def _stable(page, seconds=0.6):
    """The counter once it has not changed for `seconds`."""
    last = page.evaluate(STEP)
    while True:
        page.wait_for_timeout(seconds * 1000)
        now = page.evaluate(STEP)
        if now == last:
            return now
        last = now


@pytest.mark.parametrize("width, height, smallest", [(1280, 720, 16), (1920, 1080, 20)])
def test_presenter_view_fits_the_screen_with_big_text(server, browser, width, height, smallest):
    page = _present(browser, server, width, height)
    sizes = page.evaluate(TEXT_BOXES)
    assert len(sizes) > 30
    small = min(sizes)
    assert small[0] >= smallest, small
    fits = page.evaluate("""() => [document.documentElement.scrollHeight, innerHeight,
        ...Array.from(document.querySelectorAll('.stMain')).map(e => e.scrollHeight - e.clientHeight)]""")
    assert fits[0] <= fits[1] and max(fits[2:]) <= 1, fits
    # the key help and the class code under the panel are whole: the panel's box hides what overflows it
    help_bottom, box_bottom = page.evaluate("""() => [
        document.querySelector('.st-key-stage_help [data-testid="stCaptionContainer"]').getBoundingClientRect().bottom,
        document.querySelector('.st-key-stage_panel_box').getBoundingClientRect().bottom]""")
    assert help_bottom <= box_bottom + 0.5, (help_bottom, box_bottom)
    assert page.locator('[data-testid="stSidebar"][aria-expanded="true"]').count() == 0  # starts collapsed
    page.close()


def test_presenter_buttons_take_a_mouse_click(server, browser):
    """Streamlit's header is a strip over the top bar: a click on Play must reach Play, not the header
    (Playwright's click fails when another element would take it)."""
    page = _present(browser, server, 1280, 720)
    start = page.evaluate(STEP)
    page.get_by_role("button", name="▶ Play").click(timeout=10_000)
    page.wait_for_function(f"{STEP} >= {start + 15}", timeout=30_000)
    page.get_by_role("button", name="❚❚ Pause").click(timeout=10_000)
    paused = _stable(page)
    page.get_by_role("button", name="Step +1").click(timeout=10_000)
    page.wait_for_function(f"{STEP} === {paused + 1}", timeout=30_000)
    page.wait_for_timeout(1500)  # the mouse still on Step: no tooltip covers the counter below it
    assert page.evaluate(COUNTER_UNCOVERED), "something covers the iteration counter"
    # the sidebar opens (its button was hidden with Streamlit's toolbar), and leads back to the full page
    page.locator('[data-testid="stExpandSidebarButton"]').click(timeout=10_000)
    page.get_by_role("button", name="◀ Leave presenter view").click(timeout=10_000)
    page.get_by_role("button", name="Present").wait_for(timeout=30_000)
    page.close()


COUNTER_UNCOVERED = """() => {
  for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const t = host.shadowRoot && host.shadowRoot.querySelector('[data-testid="iteration-counter"]');
    if (!t) continue;
    const r = t.getBoundingClientRect();
    const at = (f) => document.elementFromPoint(r.left + f * r.width, r.top + r.height / 2);
    return [0.1, 0.5, 0.9].every(f => host.contains(at(f)));
  }
  return false;
}"""


def test_presenter_keys_drive_training(server, browser):
    page = _present(browser, server, 1280, 720, "&panel=gradient")
    start = page.evaluate(STEP)
    page.keyboard.press(" ")  # Play
    page.wait_for_function(f"{STEP} >= {start + 15}", timeout=30_000)
    status = page.locator('[data-testid="stStatusWidget"]')
    assert status.count() == 0 or not status.first.is_visible()  # no Stop button, no running man
    page.keyboard.press(" ")  # Pause: the counter stops
    paused = _stable(page)
    page.wait_for_timeout(800)
    assert page.evaluate(STEP) == paused
    page.keyboard.press("ArrowRight")  # Step: exactly one iteration
    page.wait_for_function(f"{STEP} === {paused + 1}", timeout=20_000)
    page.wait_for_timeout(800)
    assert page.evaluate(STEP) == paused + 1
    assert page.evaluate(SLIDER_P) == "0.5"
    page.keyboard.press("ArrowUp")  # p + 0.05: the slider, and from the next iteration the diagram
    page.wait_for_function(f"({SLIDER_P})() === '0.55'", timeout=20_000)
    page.keyboard.press(".")
    page.wait_for_function(f"({P_SHOWN})() === 'p = 0.55'", timeout=20_000)
    toggle = page.locator(".st-key-w_test_time input")
    assert not toggle.is_checked()
    page.keyboard.press("t")
    page.wait_for_function("document.querySelector('.st-key-w_test_time input').checked", timeout=20_000)
    page.wait_for_function(f"({P_SHOWN})() !== 'p = 0.55'", timeout=20_000)  # test time: "all active"
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Something went wrong").count() == 0
    assert page.get_by_text("Traceback").count() == 0
    page.close()


def test_live_page_keys_and_buttons_while_playing(server, browser):
    """On the full page too: ↑ while playing raises p for good (the sidebar slider follows and does not send
    its old value back), Space pauses, and Step (redrawing only its parts of the page) adds one iteration."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server}/")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"{STEP} >= 10", timeout=30_000)
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"({P_SHOWN})() === 'p = 0.55'", timeout=20_000)
    page.wait_for_function(f"({SLIDER_P})() === '0.55'", timeout=20_000)
    page.wait_for_timeout(2000)  # many pulls later, p is still 0.55
    assert page.evaluate(P_SHOWN) == "p = 0.55" and page.evaluate(SLIDER_P) == "0.55"
    page.keyboard.press(" ")
    page.get_by_role("button", name="▶ Play").wait_for(timeout=20_000)  # the server has paused too
    paused = _stable(page)
    page.get_by_role("button", name="Step +1").click()
    page.wait_for_function(f"{STEP} === {paused + 1}", timeout=20_000)
    page.wait_for_timeout(800)
    assert page.evaluate(STEP) == paused + 1
    # the panels show the same iteration as the counter
    page.get_by_text(f"Test-time prediction, iteration {paused + 1}").wait_for(timeout=20_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Something went wrong").count() == 0
    page.close()


PRESS_AND_WATCH = """(key) => {
  const counter = () => parseInt(((COUNTER)() || '').split(' ')[1]);
  const start = () => {  // every counter value on screen from the press on: each change of the view's DOM (an
    window.__seen = new Set([counter()]);  // animation-frame sampler missed frames shown for under 40 ms under load)
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      if (!host.shadowRoot) continue;
      new MutationObserver(() => { const n = counter(); if (Number.isInteger(n)) window.__seen.add(n); }).observe(
        host.shadowRoot, {childList: true, characterData: true, subtree: true});
    }
  };
  if (key) {
    start();
    document.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
  } else {  // the mouse: from the moment the button is pressed (after the live view's own listener has seen it)
    document.addEventListener('pointerdown', start, {capture: true, once: true});
  }
  return counter();
}""".replace("COUNTER", COUNTER)


@pytest.mark.parametrize("how", ["key", "mouse"])
def test_pause_stops_on_the_frame_on_screen_and_the_run_goes_back_to_it(server, browser, how):
    """The browser plays about two seconds of frames per request, computed ahead: at Pause the counter does not move
    again, not even by the frames already computed, and the run itself is at the frame on screen (the panels, drawn
    by Python, show that iteration), which Step continues from."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server}/")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"{STEP} >= 100", timeout=60_000)  # past the first request's frames
    page.evaluate(PRESS_AND_WATCH, " " if how == "key" else None)
    if how == "mouse":
        page.get_by_role("button", name="❚❚ Pause").click(timeout=10_000)
    page.get_by_role("button", name="▶ Play").wait_for(timeout=20_000)
    page.wait_for_timeout(1500)
    seen = page.evaluate("() => [...window.__seen]")
    assert len(seen) == 1, seen  # nothing drawn after the press
    shown = seen[0]
    page.get_by_text(f"Test-time prediction, iteration {shown}").wait_for(timeout=20_000)
    page.get_by_role("button", name="Step +1").click()
    page.wait_for_function(f"{STEP} === {shown + 1}", timeout=20_000)
    page.get_by_text(f"Test-time prediction, iteration {shown + 1}").wait_for(timeout=20_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


PANEL_STEP = """() => {
  const t = [...document.querySelectorAll('.js-plotly-plot .gtitle')].map(e => e.textContent).join(' ');
  const m = t.match(/iteration (\\d+)/);
  return m ? parseInt(m[1]) : null;
}"""


def test_while_playing_the_panel_is_never_ahead_of_the_counter(server, browser):
    """The browser is sent two seconds of frames per request, computed ahead of the screen. The detail panel,
    redrawn every few seconds while playing, shows the frame the screen was about to show when the request went
    out: at most MAX_AHEAD frames (of 3 iterations) ahead of the counter for the moment it lands, never seconds."""
    page = _present(browser, server, 1280, 720)
    page.keyboard.press(" ")
    page.wait_for_function(f"{STEP} >= 100", timeout=60_000)
    leads, panels = [], set()
    for _ in range(120):  # until the panel has been redrawn twice (every 3-4 s), at most 30 s on a slow machine
        counter, panel = page.evaluate(f"() => [{STEP}, ({PANEL_STEP})()]")
        if panel is not None and panel > 100:
            leads.append(panel - counter)
            panels.add(panel)
        if len(panels) >= 3:
            break
        page.wait_for_timeout(250)
    page.keyboard.press(" ")
    assert len(panels) >= 2 and leads, (panels, leads)  # it was redrawn while playing
    assert max(leads) <= 10 * 3, leads
    page.close()


def test_the_full_pages_panels_are_redrawn_while_playing_only_once_scrolled_to(server, browser):
    """At 1280x720 the full page's panels are below the fold: while playing nothing is spent on them, until the
    student scrolls down to them; then they follow the run every few seconds."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server}/")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.evaluate(PANEL_STEP) == 0
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"{STEP} >= 150", timeout=60_000)
    page.wait_for_timeout(6000)  # in view, they would have been redrawn one or two times by now
    assert page.evaluate(PANEL_STEP) == 0
    page.locator(".st-key-detail_panels").scroll_into_view_if_needed()
    page.wait_for_function(f"({PANEL_STEP})() >= 150", timeout=30_000)
    page.keyboard.press(" ")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


def test_p_raised_while_playing_applies_from_the_frame_on_screen(server, browser):
    """↑ while playing: the counter neither jumps ahead over the frames computed with the old p nor goes back; it
    goes on from the frame on screen, 3 iterations a frame, now with p = 0.55."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server}/?present=1")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.keyboard.press(" ")
    page.wait_for_function(f"{STEP} >= 100", timeout=60_000)
    shown = page.evaluate(PRESS_AND_WATCH, "ArrowUp")
    page.wait_for_function(f"({P_SHOWN})() === 'p = 0.55'", timeout=20_000)
    page.wait_for_function(f"{STEP} >= {shown + 30}", timeout=20_000)
    seen = page.evaluate("() => [...window.__seen]")
    gaps = [b - a for a, b in zip(seen, seen[1:])]
    assert set(gaps) == {3}, " ".join(f"{s}+{g}" for s, g in zip(seen, gaps))  # one frame after another, none skipped
    page.keyboard.press(" ")
    page.close()


def test_a_student_follows_the_teachers_class(server, browser):
    """The presenter view shows a class code; /?follow=CODE shows the teacher's run as it plays, read-only."""
    import re
    teacher = _present(browser, server, 1280, 720)
    code = re.search(r"Class code: ([A-Z0-9]{4,6})", teacher.locator(".st-key-stage_help").inner_text()).group(1)
    student = browser.new_page(viewport={"width": 1280, "height": 720})
    student.goto(f"{server}/?follow={code}")
    student.get_by_text(f"Following class {code}").wait_for(timeout=60_000)
    student.wait_for_function(f"({COUNTER})() !== null", timeout=60_000)
    assert student.get_by_role("button", name="▶ Play").count() == 0  # the teacher's controls are not there
    start = student.evaluate(STEP)
    teacher.keyboard.press(" ")  # the teacher plays: the student's counter follows
    student.wait_for_function(f"{STEP} >= {start + 15}", timeout=30_000)
    teacher.keyboard.press(" ")
    final = _stable(teacher)
    student.wait_for_function(f"{STEP} === {final}", timeout=20_000)  # the student ends on the teacher's frame
    assert student.locator('[data-testid="stException"]').count() == 0
    # the teacher plays again, then opens another page without pausing: the student is told, not shown "playing"
    teacher.keyboard.press(" ")
    student.wait_for_function(f"{STEP} >= {final + 15}", timeout=30_000)
    teacher.locator('[data-testid="stExpandSidebarButton"]').click(timeout=10_000)  # the presenter view's sidebar
    teacher.get_by_role("link", name="Why dropout works").click(timeout=10_000)
    student.get_by_text("waiting for the teacher's page").wait_for(timeout=30_000)
    for page in (teacher, student):
        page.close()


@pytest.mark.parametrize("query", ["?present=1", ""])
def test_every_step_key_press_counts(server, browser, query):
    """Five quick presses of → are five iterations, on the stage and on the full page (Streamlit merges a
    key element's triggers that come during one rerun; each carries the key's own press count)."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{server}/{query}")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    start = page.evaluate(STEP)
    page.evaluate("() => { for (let i = 0; i < 5; i++) document.dispatchEvent(\n"
                  "        new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true})); }")
    page.wait_for_function(f"{STEP} >= {start + 5}", timeout=20_000)
    page.wait_for_timeout(1500)
    assert page.evaluate(STEP) == start + 5
    page.close()


def test_a_hostile_link_renders_as_text_and_fetches_nothing_off_this_machine(server, browser):
    """A Markdown image or link in a URL parameter is shown as text; Chromium requests nothing but this server."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{server}/?dataset=![x](http://198.51.100.7/a.png)&noise=[click](http://example.invalid)")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    warnings = [w.replace("\u2060", "") for w in page.locator('[data-testid="stAlert"]').all_inner_texts()]
    assert any("![x](http://198.51.100.7/a.png)" in w for w in warnings), warnings
    assert page.locator('[data-testid="stAlert"] a, [data-testid="stAlert"] img').count() == 0
    off = [u for u in requests if not u.startswith((server, "data:", f"blob:{server}"))]
    assert not off, off
    page.close()
