"""The real page in headless Chromium: press Play, the counter advances and the diagram changes.

In CI (CI=true) a missing Chromium or Playwright fails this test; elsewhere it is skipped with the reason.
"""
from __future__ import annotations

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


def test_play_advances_counter_and_diagram_without_errors(tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright Python package is not installed")
    _need(shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    port = _free_port()
    proc = start_app(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"http://127.0.0.1:{port}/")
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
            # wide page: the Plotly panels two per row; a 1280x720 projector: one per row
            assert _panel_rows(page) == 2
            projector = browser.new_page(viewport={"width": 1280, "height": 720})
            projector.goto(f"http://127.0.0.1:{port}/")
            projector.locator(".st-key-panel_rescale .js-plotly-plot").wait_for(timeout=60_000)
            assert _panel_rows(projector) == 4
            # a shared link straight to the Experiments page names the pages the same way
            direct = browser.new_page(viewport={"width": 1600, "height": 1000})
            direct.goto(f"http://127.0.0.1:{port}/Experiments")
            direct.get_by_role("button", name="Run").wait_for(timeout=60_000)
            assert direct.get_by_role("link", name="Live view").count() == 1
            assert direct.locator('[data-testid="stException"]').count() == 0
            browser.close()
    finally:
        stop_app(proc)
