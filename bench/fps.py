"""Measure the live page in headless Chromium: frames/s, iterations/s, slider latency, first frame.

    python bench/fps.py [--seconds 10] [--repeats 5] [--skip-baseline]

Starts `streamlit run app.py` on a free port, drives it at 1920x1080 and prints medians. The baseline
is bench/baseline_page.py: the same page, run by the same code, except that while playing its three
Plotly panels are redrawn with every rerun of the live view (every 0.4 s) instead of every 3 s, the
choice that keeps the browser free to play frames. Both are watched the same way, from outside: a
MutationObserver that Playwright injects into the live view's DOM counts the changes of the iteration
counter's text and reads the p the diagram shows. The product has no hook for this benchmark.
Timings on a shared 2-core machine are noisy: compare runs made close together.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM, CHROMIUM_ARGS, COUNTER, _free_port, start_app, stop_app  # noqa: E402

BASELINE = "bench/baseline_page.py"
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


def measure(script: str, seconds: float, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright
    port = _free_port()
    proc = start_app(port, script)
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
            latencies = {"playing": [], "paused": []}
            slider = page.get_by_role("slider", name="p: drop probability")
            for state in ("playing", "paused"):
                if state == "paused":
                    page.get_by_role("button", name="❚❚ Pause").click()
                    time.sleep(1)
                for i in range(repeats):
                    before = page.evaluate("window.__bench.p")
                    slider.focus()
                    t0 = page.evaluate("performance.now()")
                    page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                    page.wait_for_function(f"window.__bench.p !== {json.dumps(before)}", timeout=20_000)
                    t1 = page.evaluate("window.__bench.pChanges[window.__bench.pChanges.length - 1][0]")
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
    app = measure("app.py", args.seconds, args.repeats)
    report("app (browser-drawn live view, Plotly panels every 3 s while playing)", app)
    if not args.skip_baseline:
        base = measure(BASELINE, args.seconds, args.repeats)
        report("baseline (the same page, Plotly panels redrawn with every rerun while playing)", base)
        print(f"ratio app / baseline: frames/s x{app['fps'] / base['fps']:.1f}, "
              f"slider latency x{app['latency'] / base['latency']:.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
