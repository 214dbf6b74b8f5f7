"""A classroom on one server: N visitors playing at once, and what the server spends on them.

    python bench/classroom.py [--sessions 1,4,8] [--seconds 15] [--warmup 3]

Starts `streamlit run app.py` on a free port and one headless Chromium. For each N it opens N pages
(each its own browser context: its own Streamlit session, as N students would be), presses "▶ Play"
in all of them, waits --warmup seconds, then measures for --seconds:

- displayed frames/s per session, minimum and median over the sessions: the changes of the live
  view's iteration counter, watched by the same MutationObserver as bench/fps.py;
- server CPU in cores, and in ms of server CPU per displayed frame, summed over all sessions;
- the server's resident memory (VmRSS) at the end of the window, and its maximum during it;
- the worst latency of GET /_stcore/health, sampled four times a second during the window.

The last column is each N's ms per frame against N = 1 measured in the same run (the baseline).
On a small machine the browsers share the CPU with the server, so frames/s is lower than a room of
students' own laptops would see; the server's ms per frame is the figure that carries over to a
lecturer's laptop (cores needed = ms per frame x frames/s x sessions / 1000).

TODO(followers): issue 9 item 7 also asks for a teacher with 4, 8 and 16 followers (`/?follow=CODE`).
Following does not exist yet; add a --followers option here when it does, measured the same way.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from fps import WATCH, cpu_seconds  # noqa: E402
from test_browser import CHROMIUM, CHROMIUM_ARGS, COUNTER, _free_port, start_app, stop_app  # noqa: E402

CAVEAT = ("On this {cores}-core machine the browsers share the CPU with the server, so frames/s is lower "
          "than on students' own laptops. The server's ms per frame is the figure that carries over to a "
          "lecturer's laptop: cores needed = ms per frame x frames/s x sessions / 1000.")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB, from /proc."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


class Sampler(threading.Thread):
    """Four times a second: the health endpoint's latency, and the server's resident memory."""

    def __init__(self, port: int, pid: int):
        super().__init__(daemon=True)
        self.url, self.pid = f"http://127.0.0.1:{port}/_stcore/health", pid
        self.health: list[float] = []
        self.rss: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as r:
                    r.read()
                self.health.append(time.perf_counter() - t0)
            except OSError:
                self.health.append(float("inf"))
            self.rss.append(rss_mb(self.pid))
            self.done.wait(max(0.0, 0.25 - (time.perf_counter() - t0)))


def open_session(browser, port: int, viewport: tuple[int, int] = (1920, 1080)):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=120_000)
    page.get_by_role("button", name="▶ Play").wait_for(timeout=120_000)
    page.evaluate(WATCH)
    return page


def measure(browser, proc, port: int, n: int, seconds: float, warmup: float, viewport) -> dict:
    pages = [open_session(browser, port, viewport) for _ in range(n)]
    try:
        for page in pages:
            page.get_by_role("button", name="▶ Play").click()
        for page in pages:
            page.get_by_role("button", name="❚❚ Pause").wait_for(timeout=60_000)
        time.sleep(warmup)
        state = "[window.__bench.draws, performance.now()]"
        sampler = Sampler(port, proc.pid)
        before = [page.evaluate(state) for page in pages]
        c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        sampler.start()
        time.sleep(seconds)
        c1, t1 = cpu_seconds(proc.pid), time.perf_counter()
        sampler.done.set()
        after = [page.evaluate(state) for page in pages]
        sampler.join()
        fps = [(a[0] - b[0]) / ((a[1] - b[1]) / 1000) for a, b in zip(after, before)]
        frames = sum(a[0] - b[0] for a, b in zip(after, before))
        cpu = c1 - c0
        for page in pages:
            page.get_by_role("button", name="❚❚ Pause").click()
    finally:
        for page in pages:
            page.close()
    return dict(n=n, fps_min=min(fps), fps_median=statistics.median(fps), cores=cpu / (t1 - t0),
                ms_per_frame=1000 * cpu / frames if frames else float("inf"),
                rss=sampler.rss[-1], rss_max=max(sampler.rss), health_max=max(sampler.health),
                health_median=statistics.median(sampler.health))


def table(rows: list[dict]) -> None:
    base = rows[0]["ms_per_frame"]
    print(f"{'sessions':>8} {'frames/s min':>12} {'median':>7} {'server cores':>12} {'ms/frame':>9} "
          f"{'RSS MB':>7} {'(max)':>6} {'health worst s':>14} {'ms/frame vs N=' + str(rows[0]['n']):>17}")
    for r in rows:
        print(f"{r['n']:8d} {r['fps_min']:12.1f} {r['fps_median']:7.1f} {r['cores']:12.2f} {r['ms_per_frame']:9.1f} "
              f"{r['rss']:7.0f} {r['rss_max']:6.0f} {r['health_max']:14.2f} {r['ms_per_frame'] / base:16.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1,4,8", help="comma list of how many sessions play at once")
    ap.add_argument("--seconds", type=float, default=15, help="length of each measuring window")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of play before each window")
    ap.add_argument("--viewport", default="1920x1080", help="each page's size (smaller: cheaper browsers)")
    args = ap.parse_args()
    counts = [int(s) for s in args.sessions.split(",")]
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    from playwright.sync_api import sync_playwright
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"pages of {args.viewport}, {args.warmup:g} s of play, then {args.seconds:g} s measured", flush=True)
    port = _free_port()
    proc = start_app(port)
    rows = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            open_session(browser, port).close()  # the first visitor pays the imports
            print(f"server resident memory after the first visit: {rss_mb(proc.pid):.0f} MB", flush=True)
            for n in counts:
                rows.append(measure(browser, proc, port, n, args.seconds, args.warmup, viewport))
                print(f"  {n} sessions measured", flush=True)
            browser.close()
    finally:
        stop_app(proc)
    table(rows)
    print(CAVEAT.format(cores=os.cpu_count()))
    print("Followers (a teacher with 4, 8 and 16 followers): not measured, following is not built yet "
          "(TODO(followers) in bench/classroom.py).")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
