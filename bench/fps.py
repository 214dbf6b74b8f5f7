"""Measure the live page in headless Chromium: frames/s, iterations/s, slider latency, first frame.

    python bench/fps.py [--seconds 10] [--repeats 5] [--skip-baseline]

Starts `streamlit run app.py` on a free port (twice: the app as shipped, and as baseline the
all-Plotly variant, DROPVIZ_DIAGRAM=plotly, which redraws a Plotly network diagram in a fragment
every 40 ms), drives it at 1920x1080 and prints medians and the ratio to the baseline.
Timings on a shared 2-core machine are noisy: compare runs made close together.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, start_app, stop_app  # noqa: E402

# In the baseline there is no live view script: watch its counter element instead.
WATCH_PLOTLY = """() => {
  const w = window.__dropviz = { draws: 0, times: [], step: null, p: null };
  const read = () => {
    const el = document.getElementById('plotly-counter');
    if (!el) return;
    const step = parseInt(el.textContent.split(' ')[1]), p = parseFloat(el.dataset.p);
    if (step !== w.step || p !== w.p) {
      w.draws += 1; w.step = step; w.p = p; w.times.push(performance.now());
    }
  };
  new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  read();
}"""
# Record when the p shown on screen changes (the live view sets window.__dropviz.p as it draws).
WATCH_P = """() => {
  const w = window.__dropviz;
  window.__pChanges = [];
  let last = w.p;
  const tick = () => { if (w.p !== last) { window.__pChanges.push([performance.now(), w.p]); last = w.p; }
                       requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_page(browser, port, baseline):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    t0 = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/")
    if baseline:
        page.wait_for_selector("#plotly-counter", timeout=60_000)
        page.evaluate(WATCH_PLOTLY)
    else:
        page.wait_for_function("window.__dropviz && window.__dropviz.draws > 0", timeout=60_000)
    first = time.perf_counter() - t0
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the rest of the page is there too
    return page, first


def measure(baseline: bool, seconds: float, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright
    env_before = dict(os.environ)
    if baseline:
        os.environ["DROPVIZ_DIAGRAM"] = "plotly"
    port = _free_port()
    proc = start_app(port)
    os.environ.clear()
    os.environ.update(env_before)
    out = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page, cold = open_page(browser, port, baseline)  # the first visitor pays the imports
            page.close()
            firsts = []
            for _ in range(repeats):
                page, t = open_page(browser, port, baseline)
                firsts.append(t)
                page.close()
            page, _ = open_page(browser, port, baseline)
            # a paused page: the server should be idle
            time.sleep(1)
            c0 = cpu_seconds(proc.pid)
            time.sleep(3)
            out["paused_cpu"] = (cpu_seconds(proc.pid) - c0) / 3
            page.get_by_role("button", name="▶ Play").click()
            time.sleep(2)
            fps, its, gaps = [], [], []
            for _ in range(max(1, repeats // 2)):
                d0 = page.evaluate("[window.__dropviz.draws, window.__dropviz.step, performance.now()]")
                time.sleep(seconds)
                d1 = page.evaluate("[window.__dropviz.draws, window.__dropviz.step, performance.now()]")
                dt = (d1[2] - d0[2]) / 1000
                fps.append((d1[0] - d0[0]) / dt)
                its.append((d1[1] - d0[1]) / dt)
                times = page.evaluate(f"window.__dropviz.times.filter(t => t >= {d0[2]})")
                gaps += [b - a for a, b in zip(times, times[1:])]
            c0 = cpu_seconds(proc.pid)
            time.sleep(2)
            out["playing_cpu"] = (cpu_seconds(proc.pid) - c0) / 2
            if not baseline:
                page.evaluate(WATCH_P)
            latencies = {"playing": [], "paused": []}
            slider = page.get_by_role("slider", name="p: drop probability")
            for state in ("playing", "paused"):
                if state == "paused":
                    page.get_by_role("button", name="❚❚ Pause").click()
                    time.sleep(1)
                for i in range(repeats):
                    before = page.evaluate("window.__dropviz.p")
                    slider.focus()
                    t0 = page.evaluate("performance.now()")
                    page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                    page.wait_for_function(f"window.__dropviz.p !== {before}", timeout=20_000)
                    if baseline:
                        t1 = page.evaluate("window.__dropviz.times[window.__dropviz.times.length - 1]")
                    else:
                        t1 = page.evaluate("window.__pChanges[window.__pChanges.length - 1][0]")
                    latencies[state].append(t1 - t0)
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


def report(name: str, r: dict) -> None:
    print(f"{name}:")
    print(f"  displayed frames/s (median)      {r['fps']:6.1f}   frame gap median {r['gap_median']:.0f} ms, "
          f"95th percentile {r['gap_p95']:.0f} ms")
    print(f"  training iterations/s (median)   {r['its']:6.1f}")
    print(f"  p slider -> p shown (median)     {r['latency']:6.0f} ms playing, {r['latency_paused']:.0f} ms paused"
          f"   (max {r['latency_max']:.0f} ms)")
    print(f"  first frame, warm server (median){r['first']:6.2f} s    first visitor after start {r['cold']:.2f} s")
    print(f"  server CPU paused / playing      {100 * r['paused_cpu']:5.1f}% / {100 * r['playing_cpu']:.0f}% of a core")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10, help="length of each frame-rate window")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    app = measure(False, args.seconds, args.repeats)
    report("app (browser-drawn live view, Plotly panels every 3 s)", app)
    if not args.skip_baseline:
        base = measure(True, args.seconds, args.repeats)
        report("baseline (Plotly network diagram redrawn by a 40 ms fragment)", base)
        print(f"ratio app / baseline: frames/s x{app['fps'] / base['fps']:.1f}, "
              f"slider latency x{app['latency'] / base['latency']:.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
