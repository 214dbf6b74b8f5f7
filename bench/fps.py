"""Measure the live page (or, with --page variants, the Variants page) in headless Chromium: frames/s,
iterations/s, slider latency, first frame, and how immediate Pause, Step and a p change are.

    python bench/fps.py [--seconds 10] [--repeats 5] [--old REF] [--skip-old] [--baseline]
    python bench/fps.py --page variants [--query "family=conv&variant=channel"] [--seconds 10] [--repeats 5]

--page variants plays /Variants (the conv net by default) and prints, for this checkout and for REF: frames/s
and iterations/s (medians over windows of --seconds), the gaps between frames, the server's CPU per displayed
frame, Pause -> last change of the counter and the iterations shown after the press, and whether Step right
after Pause shows the paused iteration + 1 (it does when the frame on screen was the engine's). The counter is
read every animation frame wherever the page shows it (the new page's view, the old page's Markdown line).

Starts `streamlit run app.py` on a free port, drives it at 1920x1080 and prints medians:

- frames/s while playing, iterations/s, the gaps between frames;
- pause latency: from the Pause press (the button, and Space) to the last change of the counter, and
  how many iterations were shown after the press (0 = none: the frame on screen was the engine's);
- step latency: Step pressed (the button, and → where the page has keys) -> the next iteration shown;
- p-change latency: the p slider moved, or ↑ pressed, while playing -> the new p shown in the diagram.

"old" is the same app at git REF (default main), exported with `git archive` to a temporary folder and
run the same way in the same session, so both see the same machine load; the table gives new / old.
--baseline also runs bench/baseline_page.py (the Plotly panels redrawn with every frame).
Both are watched from outside: a MutationObserver that Playwright injects into the live view's DOM
counts the changes of the iteration counter's text and reads the p the diagram shows. Presses are
dispatched inside the page (a click, a keydown), so their time is exact. The product has no hook for
this benchmark. Timings on a shared 2-core machine are noisy: compare runs made close together.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from test_browser import CHROMIUM, CHROMIUM_ARGS, COUNTER, _free_port, start_app, stop_app  # noqa: E402

BASELINE = "bench/baseline_page.py"
# the p slider by its widget key: its label ("p: drop probability") is also the start of input p's
P_SLIDER = '.st-key-w_p input'  # Streamlit 1.67 draws the slider as an input of type range
# Injected into the page: watches the live view inside its shadow root (attached again whenever
# Streamlit mounts a new one) and records in window.__bench when the counter's text changes (a frame)
# and when the p on screen changes: "p = X from the next iteration" in the status line while paused,
# else the p in the first hidden layer's header.
WATCH = """() => {
  const b = window.__bench = { draws: 0, step: null, times: [], p: null, pChanges: [] };
  const seen = new WeakSet();
  const pShown = (root) => {
    const texts = Array.from(root.querySelectorAll('.diagram svg text')).map(t => t.textContent);
    for (const t of texts) { const m = t.match(/p = ([0-9.]+) from the next iteration/); if (m) return m[1]; }
    const layer = texts.indexOf('layer 1');
    return layer >= 0 ? texts[layer + 1] : null;
  };
  const read = (root) => {
    const counter = root.querySelector('[data-testid="iteration-counter"]');
    if (!counter) return;
    const now = performance.now(), step = parseInt(counter.textContent.split(' ')[1]);
    if (step !== b.step) {
      b.draws += 1; b.step = step; b.times.push(now);
      if (b.times.length > 4000) b.times.splice(0, 2000);
    }
    const p = pShown(root);
    if (p !== b.p) { b.p = p; b.pChanges.push([now, p]); }
  };
  const attach = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (!root || seen.has(root) || !root.querySelector('[data-testid="iteration-counter"]')) continue;
      seen.add(root);
      new MutationObserver(() => read(root)).observe(root, { subtree: true, childList: true, characterData: true });
      read(root);
    }
  };
  setInterval(attach, 100);
  attach();
}"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_page(browser, port):
    """A new visitor: returns the page once the rest of the page is there too, and the seconds until
    the first frame (the counter) was on screen."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    t0 = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=60_000)
    first = time.perf_counter() - t0
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.evaluate(WATCH)
    return page, first


def press(page, what: str, with_step: bool = False):
    """Press a button (a CSS selector: clicked) or a key (a KeyboardEvent key) inside the page; its time (and,
    with_step, the iteration on screen at that moment, read in the same task: read before, in another call,
    it missed the frames drawn in between)."""
    at = "[t, window.__bench.step]" if with_step else "t"
    if what.startswith("."):
        return page.evaluate(f"""() => {{ const b = document.querySelector({json.dumps(what)});
            const t = performance.now(); b.dispatchEvent(new PointerEvent('pointerdown', {{bubbles: true}})); b.click();
            return {at}; }}""")
    return page.evaluate(f"""() => {{ const t = performance.now();
        document.dispatchEvent(new KeyboardEvent('keydown', {{key: {json.dumps(what)}, bubbles: true}}));
        return {at}; }}""")


def settle(page, quiet: float = 1.0, limit: float = 8.0) -> None:
    """Wait until the counter has not changed for `quiet` seconds."""
    end = time.time() + limit
    while time.time() < end:
        last = page.evaluate("window.__bench.times.length ? window.__bench.times[window.__bench.times.length - 1] : 0")
        if page.evaluate("performance.now()") - last > quiet * 1000:
            return
        time.sleep(0.1)


def pause_latency(page, how: str, play: str, repeats: int) -> tuple[list[float], list[int]]:
    """Play, then pause `how`; ms from the press to the counter's last change, and iterations shown after."""
    latencies, extra = [], []
    for _ in range(repeats):
        page.locator(play).first.filter(has_text="Play").wait_for(timeout=20_000)  # paused: the next press plays
        press(page, play)
        page.locator(play).first.filter(has_text="Pause").wait_for(timeout=20_000)
        time.sleep(1.2)
        t0, step0 = press(page, how, with_step=True)
        settle(page)
        last_t, last_step = page.evaluate("[window.__bench.times.at(-1), window.__bench.step]")
        latencies.append(max(0.0, last_t - t0))
        extra.append(last_step - step0)
        page.locator(play).first.filter(has_text="Play").wait_for(timeout=20_000)
    return latencies, extra


MISSED = float("inf")  # a press whose effect never showed (within 10 s): counted, and shown as "missed"


def shown(page, condition: str, what: str) -> bool:
    """Wait up to 10 s for `condition` in the page; False (and a line saying so) if it never holds."""
    try:
        page.wait_for_function(condition, timeout=10_000)
        return True
    except PlaywrightTimeout:
        print(f"  missed: {what} never showed within 10 s", flush=True)
        return False


def step_latency(page, how: str, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        before = page.evaluate("window.__bench.step")
        t0 = press(page, how)
        if shown(page, f"window.__bench.step !== {before}", f"step ({how})"):
            out.append(page.evaluate("window.__bench.times[window.__bench.times.length - 1]") - t0)
        else:
            out.append(MISSED)
        time.sleep(0.6)
    return out


def p_latency(page, how: str, repeats: int) -> list[float]:
    """While playing: the p slider (how="slider") or ↑/↓ keys moved -> the new p in the diagram."""
    out = []
    slider = page.locator(P_SLIDER)
    for i in range(repeats):
        before = page.evaluate("window.__bench.p")
        if how == "slider":
            slider.focus()
            t0 = page.evaluate("performance.now()")
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        else:
            page.evaluate("document.activeElement && document.activeElement.blur()")
            t0 = press(page, "ArrowUp" if i % 2 == 0 else "ArrowDown")
        if shown(page, f"window.__bench.p !== {json.dumps(before)}", f"p change ({how})"):
            out.append(page.evaluate("window.__bench.pChanges[window.__bench.pChanges.length - 1][0]") - t0)
        else:
            out.append(MISSED)
        time.sleep(0.7)
    return out


PLAY = ".st-key-play button"


def immediacy(browser, port: int, query: str, keys: bool, repeats: int) -> dict:
    """Pause, Step and p-change latencies on one page (query: its URL parameters)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"http://127.0.0.1:{port}/{query}")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=60_000)
    page.locator(PLAY).first.wait_for(timeout=60_000)
    time.sleep(2)
    page.evaluate(WATCH)
    out = {}
    out["pause_button"], out["after_button"] = pause_latency(page, PLAY, PLAY, repeats)
    if keys:
        out["pause_space"], out["after_space"] = pause_latency(page, " ", PLAY, repeats)
    out["step_button"] = step_latency(page, ".st-key-step button", repeats)
    if keys:
        out["step_key"] = step_latency(page, "ArrowRight", repeats)
    press(page, PLAY)
    time.sleep(1.5)
    out["p_slider"] = p_latency(page, "slider", repeats) if page.locator(P_SLIDER).count() else []
    if keys:
        out["p_key"] = p_latency(page, "key", repeats)
    press(page, PLAY)
    page.close()
    return out


def measure(script: str, seconds: float, repeats: int, cwd: Path = ROOT, present: bool = False) -> dict:
    from playwright.sync_api import sync_playwright
    port = _free_port()
    proc = start_app(port, script, cwd)
    out = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page, cold = open_page(browser, port)  # the first visitor pays the imports
            page.close()
            firsts = []
            for _ in range(repeats):
                page, t = open_page(browser, port)
                firsts.append(t)
                page.close()
            page, _ = open_page(browser, port)
            # a paused page: the server should be idle
            time.sleep(1)
            c0 = cpu_seconds(proc.pid)
            time.sleep(3)
            out["paused_cpu"] = (cpu_seconds(proc.pid) - c0) / 3
            page.get_by_role("button", name="▶ Play").click()
            time.sleep(2)
            fps, its, gaps = [], [], []
            state = "[window.__bench.draws, window.__bench.step, performance.now()]"
            for _ in range(max(1, repeats // 2)):
                d0 = page.evaluate(state)
                time.sleep(seconds)
                d1 = page.evaluate(state)
                dt = (d1[2] - d0[2]) / 1000
                fps.append((d1[0] - d0[0]) / dt)
                its.append((d1[1] - d0[1]) / dt)
                times = page.evaluate(f"window.__bench.times.filter(t => t >= {d0[2]})")
                gaps += [b - a for a, b in zip(times, times[1:])]
            c0 = cpu_seconds(proc.pid)
            time.sleep(2)
            out["playing_cpu"] = (cpu_seconds(proc.pid) - c0) / 2
            page.get_by_role("button", name="❚❚ Pause").click()
            time.sleep(1)
            page.close()
            keys = (cwd / "dropviz" / "live" / "keys.py").exists() and "stage_keys" in (
                cwd / "app_pages" / "stage.py").read_text() if (cwd / "app_pages" / "stage.py").exists() else False
            out["immediacy"] = immediacy(browser, port, "", keys, repeats)
            if present:
                out["immediacy_present"] = immediacy(browser, port, "?present=1", True, repeats)
            page, _ = open_page(browser, port)
            page.get_by_role("button", name="▶ Play").click()
            time.sleep(2)
            latencies = {"playing": [], "paused": []}
            slider = page.locator(P_SLIDER)
            for state in ("playing", "paused"):
                if state == "paused":
                    page.get_by_role("button", name="❚❚ Pause").click()
                    time.sleep(1)
                for i in range(repeats):
                    before = page.evaluate("window.__bench.p")
                    slider.focus()
                    t0 = page.evaluate("performance.now()")
                    page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                    if shown(page, f"window.__bench.p !== {json.dumps(before)}", f"p slider ({state})"):
                        t1 = page.evaluate("window.__bench.pChanges[window.__bench.pChanges.length - 1][0]")
                        latencies[state].append(t1 - t0)
                    else:
                        latencies[state].append(MISSED)
                    time.sleep(0.7)
            browser.close()
        out.update(fps=statistics.median(fps), its=statistics.median(its),
                   gap_median=statistics.median(gaps) if gaps else float("nan"),
                   gap_p95=sorted(gaps)[int(0.95 * (len(gaps) - 1))] if gaps else float("nan"),
                   latency=statistics.median(latencies["playing"]),
                   latency_paused=statistics.median(latencies["paused"]),
                   latency_max=max(latencies["playing"] + latencies["paused"]),
                   first=statistics.median(firsts), cold=cold)
    finally:
        stop_app(proc)
    return out


def med(values) -> float:
    return statistics.median(values) if values else float("nan")


def report(name: str, r: dict) -> None:
    print(f"{name}:")
    print(f"  displayed frames/s (median)      {r['fps']:6.1f}   frame gap median {r['gap_median']:.0f} ms, "
          f"95th percentile {r['gap_p95']:.0f} ms")
    print(f"  training iterations/s (median)   {r['its']:6.1f}")
    print(f"  p slider -> p shown (median)     {r['latency']:6.0f} ms playing, {r['latency_paused']:.0f} ms paused"
          f"   (max {r['latency_max']:.0f} ms)")
    print(f"  first frame, warm server (median){r['first']:6.2f} s    first visitor after start {r['cold']:.2f} s")
    print(f"  server CPU paused / playing      {100 * r['paused_cpu']:5.1f}% / {100 * r['playing_cpu']:.0f}% of a core")


ROWS = (("pause_button", "Pause button -> counter stops (ms)"), ("after_button", "  iterations shown after it"),
        ("pause_space", "Space -> counter stops (ms)"), ("after_space", "  iterations shown after it"),
        ("step_button", "Step button -> next iteration (ms)"), ("step_key", "→ -> next iteration (ms)"),
        ("p_slider", "p slider while playing -> p shown (ms)"), ("p_key", "↑/↓ while playing -> p shown (ms)"))


def table(columns: list[tuple[str, dict]]) -> None:
    """Medians (and max) of each latency, one column per page; '-' where a page has no such control."""
    print(f"{'median (max)':40s}" + "".join(f"{name:>22s}" for name, _ in columns))
    for key, label in ROWS:
        cells = []
        for _, r in columns:
            v = r.get(key)
            if not v:
                cells.append("-")
                continue
            seen = [x for x in v if x != MISSED]
            missed = len(v) - len(seen)
            cells.append(f"{med(v):9.0f} ({max(seen, default=0):5.0f})" + (f" {missed} missed" if missed else ""))
        print(f"{label:40s}" + "".join(f"{c:>22s}" for c in cells))


def export(ref: str) -> Path:
    """The app at git `ref`, in a temporary folder (git archive: no worktree is made)."""
    folder = Path(tempfile.mkdtemp(prefix="dropviz-old-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


# --page variants: read the counter every animation frame, in the view's shadow root (new) or the page's
# Markdown (old); the same window.__bench as WATCH, so settle() and press() serve both
VARIANTS_WATCH = """() => {
  const b = window.__bench = { draws: 0, step: null, times: [], p: null, pChanges: [] };
  const counter = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const t = host.shadowRoot && host.shadowRoot.querySelector('[data-testid="iteration-counter"]');
      if (t) return t.textContent;
    }
    for (const s of document.querySelectorAll('[data-testid="stMarkdownContainer"] strong')) {
      if (s.textContent.startsWith('Iteration ')) return s.textContent;
    }
    return null;
  };
  window.__benchStep = () => { const text = counter(); return text ? parseInt(text.split(' ')[1]) : null; };
  const tick = () => {
    const text = counter();
    if (text) {
      const step = parseInt(text.split(' ')[1]);
      if (step !== b.step) { b.draws += 1; b.step = step; b.times.push(performance.now()); }
    }
    requestAnimationFrame(tick);
  };
  tick();
}"""
V_PLAY, V_PAUSE, V_STEP = ".st-key-v_play button", ".st-key-v_pause button", ".st-key-v_step button"


def measure_variants(query: str, seconds: float, repeats: int, cwd: Path = ROOT) -> dict:
    """The Variants page at /Variants?query, played in Chromium at 1920x1080 (see the module's docstring)."""
    from playwright.sync_api import sync_playwright
    port = _free_port()
    proc = start_app(port, "app.py", cwd)
    out = {"fps": [], "its": [], "gaps": [], "ms_per_frame": [], "pause": [], "after": [], "step_ok": 0,
           "steps": 0, "step_ms": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"http://127.0.0.1:{port}/Variants?{query}")
            page.locator(V_PLAY).wait_for(timeout=60_000)
            page.evaluate(VARIANTS_WATCH)
            page.wait_for_function("window.__bench.step !== null", timeout=60_000)
            time.sleep(1)
            state = "[window.__bench.draws, window.__bench.step, performance.now()]"
            for _ in range(repeats):
                press(page, V_PLAY)
                page.locator(V_PAUSE).wait_for(timeout=20_000)
                time.sleep(1.5)  # past the first request's round trip
                d0, c0 = page.evaluate(state), cpu_seconds(proc.pid)
                time.sleep(seconds)
                d1, c1 = page.evaluate(state), cpu_seconds(proc.pid)
                dt, frames = (d1[2] - d0[2]) / 1000, d1[0] - d0[0]
                out["fps"].append(frames / dt)
                out["its"].append((d1[1] - d0[1]) / dt)
                out["ms_per_frame"].append(1000 * (c1 - c0) / max(frames, 1))
                times = page.evaluate(f"window.__bench.times.filter(t => t >= {d0[2]})")
                out["gaps"] += [b - a for a, b in zip(times, times[1:])]
                # the counter on screen at the press, read in the same task (window.__bench.step lags a frame)
                t0, step0 = page.evaluate(f"""() => {{ const b = document.querySelector({json.dumps(V_PAUSE)});
                    const step = window.__benchStep(), t = performance.now();
                    b.dispatchEvent(new PointerEvent('pointerdown', {{bubbles: true}})); b.click();
                    return [t, step]; }}""")
                settle(page)
                last_t, last_step = page.evaluate("[window.__bench.times.at(-1), window.__bench.step]")
                out["pause"].append(max(0.0, last_t - t0))
                out["after"].append(last_step - step0)
                page.locator(V_PLAY).wait_for(timeout=20_000)
                time.sleep(0.5)
                shown_step = page.evaluate("window.__bench.step")
                page.locator(V_STEP).wait_for(timeout=20_000)
                t0 = press(page, V_STEP)
                out["steps"] += 1
                if shown(page, f"window.__bench.step !== {shown_step}", "step after pause"):
                    out["step_ms"].append(page.evaluate("window.__bench.times.at(-1)") - t0)
                    settle(page, 0.5)
                    out["step_ok"] += page.evaluate("window.__bench.step") == shown_step + 1
            browser.close()
    finally:
        stop_app(proc)
    return out


def report_variants(name: str, r: dict) -> None:
    gaps = sorted(r["gaps"])
    print(f"{name}:")
    print(f"  displayed frames/s (median of {len(r['fps'])})  {med(r['fps']):6.1f}   "
          f"(windows: {', '.join(f'{v:.1f}' for v in r['fps'])})")
    print(f"  training iterations/s (median)    {med(r['its']):6.1f}")
    if gaps:
        print(f"  frame gap median {med(gaps):.0f} ms, 95th percentile {gaps[int(0.95 * (len(gaps) - 1))]:.0f} ms")
    print(f"  server CPU per displayed frame    {med(r['ms_per_frame']):6.1f} ms (median)")
    print(f"  Pause -> counter stops (median)   {med(r['pause']):6.0f} ms, max {max(r['pause'], default=0):.0f} ms; "
          f"iterations shown after the press: {r['after']}")
    print(f"  Step after Pause shows paused + 1: {r['step_ok']} of {r['steps']}; Step -> next iteration "
          f"{med(r['step_ms']):.0f} ms (median)")


def main_variants(args) -> None:
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; /Variants?{args.query}")
    new = measure_variants(args.query, args.seconds, args.repeats)
    report_variants("new (drawn in the browser, frames pulled)", new)
    if not args.skip_old:
        old = measure_variants(args.query, args.seconds, args.repeats, cwd=export(args.old))
        report_variants(f"old ({args.old}: Plotly redrawn by a timer fragment)", old)
        print(f"ratio new / old: frames/s x{med(new['fps']) / med(old['fps']):.2f}, "
              f"iterations/s x{med(new['its']) / med(old['its']):.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10, help="length of each frame-rate window")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--old", default="main", help="git ref of the app to compare with (default: main)")
    ap.add_argument("--skip-old", action="store_true")
    ap.add_argument("--baseline", action="store_true", help="also run bench/baseline_page.py")
    ap.add_argument("--page", choices=("live", "variants"), default="live")
    ap.add_argument("--query", default="family=conv&variant=channel", help="--page variants: its URL parameters")
    args = ap.parse_args()
    if args.page == "variants":
        main_variants(args)
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    app = measure("app.py", args.seconds, args.repeats, present=True)
    report("new (frames pulled one at a time)", app)
    columns = [("new", app["immediacy"]), ("new ?present=1", app["immediacy_present"])]
    if not args.skip_old:
        old = measure("app.py", args.seconds, args.repeats, cwd=export(args.old))
        report(f"old ({args.old}: batches of frames computed ahead)", old)
        columns.append((f"old ({args.old})", old["immediacy"]))
        print(f"ratio new / old: frames/s x{app['fps'] / old['fps']:.2f}, iterations/s x{app['its'] / old['its']:.2f}, "
              f"slider latency x{app['latency'] / old['latency']:.2f}")
    if args.baseline:
        base = measure(BASELINE, args.seconds, args.repeats)
        report("baseline (the same page, Plotly panels redrawn with every frame)", base)
    table(columns)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
