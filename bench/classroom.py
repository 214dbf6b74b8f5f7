"""A classroom on one server: N visitors playing at once, and what the server spends on them.

    python bench/classroom.py [--clients chromium|wire] [--sessions 1,4,8] [--seconds 15] [--warmup 3] [--rounds 1]

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

Then a teacher (the presenter view, playing) with K followers (`/?follow=CODE`, K from --followers):
frames/s of the teacher and of each follower, and the server CPU the followers add per frame they
display: (CPU with K followers - the teacher's own CPU per frame x the teacher's frames) / the
followers' frames, the teacher's own cost measured alone just before, in the same run. On a loaded 2-core
machine the browsers get ~1 frame/s and these per-frame figures mostly measure fixed costs; three modes
measure without that dependence:

    --paused-followers K  a paused teacher with 0 and then K followers: one follower's server CPU per second
    --in-process          a follower's live view and panel timed in real script runs (AppTest), per frame
    --loop-lag 0,2,4,8    the event loop's lag (what the health check waits for) while N runs train in threads

--clients wire plays every visitor with bench/wire.py instead of Chromium: a websocket client per session that
presses Play and asks for frames on live_view.js's clock, drawing nothing, all in one thread of this process.
Frames/s is then what the server sustains and ms per frame its own cost, with the clients' CPU in a last column
(the server's capacity: issue 9's "at most 4 ms of server CPU per displayed frame with 4 sessions playing").
Frame requests never answered are counted and said under the tables.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from fps import WATCH, cpu_seconds  # noqa: E402
from test_browser import CHROMIUM, CHROMIUM_ARGS, COUNTER, STEP, _free_port, start_app, stop_app  # noqa: E402

CAVEAT = ("On this {cores}-core machine the browsers share the CPU with the server, so frames/s is lower "
          "than on students' own laptops. The server's ms per frame is the figure that carries over to a "
          "lecturer's laptop: cores needed = ms per frame x frames/s x sessions / 1000.")
WIRE_NOTE = ("The wire clients draw nothing (client cores: their own CPU, all of them), so frames/s is what the "
             "server sustains on this {cores}-core machine and ms per frame is the server's own: cores needed "
             "= ms per frame x frames/s x sessions / 1000.")


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


# The pages of one headless browser count as tabs of one window: opening one hides the others, and a
# hidden tab pauses its run. Each page here stands for a student's own screen, so it stays visible.
VISIBLE = """Object.defineProperty(document, 'hidden', {get: () => false});
Object.defineProperty(document, 'visibilityState', {get: () => 'visible'});
document.addEventListener('visibilitychange', (e) => e.stopImmediatePropagation(), true);"""


def new_page(browser, viewport: tuple[int, int]):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.add_init_script(VISIBLE)
    return page


def open_session(browser, port: int, viewport: tuple[int, int] = (1920, 1080)):
    page = new_page(browser, viewport)
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=120_000)
    page.get_by_role("button", name="▶ Play").wait_for(timeout=120_000)
    page.evaluate(WATCH)
    return page


def window(clients, proc, port: int, sessions: list, seconds: float) -> dict:
    """Measure `seconds` of the sessions playing: each one's frames and frames/s, the server's CPU, memory and
    health latency, and the clients' own CPU (cores; None for browsers, which run in their own processes)."""
    sampler = Sampler(port, proc.pid)
    before, k0 = clients.counts(sessions), clients.cpu()
    c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    sampler.start()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(proc.pid), time.perf_counter()
    sampler.done.set()
    after, k1 = clients.counts(sessions), clients.cpu()
    sampler.join()
    frames = [a[0] - b[0] for a, b in zip(after, before)]
    fps = [(a[0] - b[0]) / ((a[1] - b[1]) / 1000) for a, b in zip(after, before)]
    cpu = c1 - c0
    return dict(frames=frames, fps=fps, cpu=cpu, fps_min=min(fps), fps_median=statistics.median(fps),
                cores=cpu / (t1 - t0), ms_per_frame=1000 * cpu / sum(frames) if sum(frames) else float("inf"),
                rss=sampler.rss[-1], rss_max=max(sampler.rss), health_max=max(sampler.health),
                health_median=statistics.median(sampler.health),
                client_cores=None if k0 is None else (k1 - k0) / (t1 - t0))


def measure(clients, proc, port: int, n: int, seconds: float, warmup: float) -> dict:
    sessions = [clients.session() for _ in range(n)]
    try:
        clients.play(sessions)
        time.sleep(warmup)
        row = window(clients, proc, port, sessions, seconds)
        clients.pause(sessions)
    finally:
        clients.close(sessions)
    return dict(n=n, **row)


def open_teacher(browser, port: int, viewport):
    """The presenter view, which opens a class: the page and its class code."""
    import re
    teacher = new_page(browser, viewport)
    teacher.goto(f"http://127.0.0.1:{port}/?present=1")
    teacher.get_by_text("Class code:").wait_for(timeout=120_000)
    return teacher, re.search(r"Class code: ([A-Z0-9]+)", teacher.locator(".st-key-stage_help").inner_text()).group(1)


def open_follower(browser, port: int, code: str, viewport):
    """A student following the class: its page once the live view and the panel are drawn, frames counted."""
    page = new_page(browser, viewport)
    page.goto(f"http://127.0.0.1:{port}/?follow={code}")
    page.wait_for_function(f"({COUNTER})() !== null", timeout=120_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    page.evaluate(WATCH)
    return page


def play(page) -> None:
    """Press the presenter view's Play once the page is ready, and check that the counter moves.

    Ready as the browser tests' _present waits for it: the counter, a Plotly panel and 1.5 s (the keyboard
    element mounted, the window size reported). The button is clicked inside the page (dispatch_event):
    Streamlit's header may lie over the top bar, and a key pressed before the keyboard element mounts is lost.
    """
    page.wait_for_function(f"({COUNTER})() !== null", timeout=120_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1500)
    page.evaluate(WATCH)
    start = page.evaluate(STEP)
    page.get_by_role("button", name="▶ Play").dispatch_event("click")
    page.wait_for_function(f"{STEP} >= {start + 5}", timeout=60_000)


def measure_followers(clients, proc, port: int, counts: list[int], seconds: float, warmup: float) -> list:
    """A teacher playing with K followers, for each K; the teacher alone first (the baseline)."""
    teacher, code = clients.teacher()
    followers = []
    try:
        clients.play_teacher(teacher)
        time.sleep(warmup)
        alone = window(clients, proc, port, [teacher], seconds)
        own = alone["cpu"] / max(1, alone["frames"][0])  # the teacher's server CPU per frame, alone
        rows = []
        for k in counts:
            while len(followers) < k:
                followers.append(clients.follower(code))
            time.sleep(warmup)
            w = window(clients, proc, port, [teacher, *followers], seconds)
            extra = w["cpu"] - own * w["frames"][0]
            rows.append(dict(k=k, teacher_fps=w["fps"][0], fps_min=min(w["fps"][1:]),
                             fps_median=statistics.median(w["fps"][1:]), rss=rss_mb(proc.pid),
                             ms_per_follower_frame=1000 * extra / max(1, sum(w["frames"][1:])),
                             client_cores=w["client_cores"]))
            print(f"  teacher with {k} followers measured", flush=True)
    finally:
        clients.close([teacher, *followers])
    return [1000 * own, rows]


class Chromium:
    """The visitors as pages of one headless Chromium, each its own browser context (its own session)."""

    STATE = "[window.__bench.draws, performance.now()]"  # frames drawn (bench/fps.py's WATCH), the page's clock

    def __init__(self, browser, port: int, viewport: tuple[int, int]):
        self.browser, self.port, self.viewport = browser, port, viewport

    def session(self):
        return open_session(self.browser, self.port, self.viewport)

    def teacher(self):
        return open_teacher(self.browser, self.port, self.viewport)

    def follower(self, code: str):
        return open_follower(self.browser, self.port, code, self.viewport)

    def play(self, pages) -> None:
        for page in pages:
            page.get_by_role("button", name="▶ Play").click()
        for page in pages:
            page.get_by_role("button", name="❚❚ Pause").wait_for(timeout=60_000)

    def play_teacher(self, page) -> None:
        play(page)

    def pause(self, pages) -> None:
        for page in pages:
            page.get_by_role("button", name="❚❚ Pause").click()

    def counts(self, pages) -> list:
        return [page.evaluate(self.STATE) for page in pages]

    def cpu(self) -> None:  # the browsers' own processes: not counted
        return None

    def close(self, pages) -> None:
        for page in pages:
            page.close()


class Wire:
    """The visitors as bench/wire.py's websocket clients, all in one thread of this process: the server's side
    of N sessions, with the clients' own CPU measured (the thread's)."""

    def __init__(self, port: int, panels: bool = True):
        import wire
        self.wire, self.port, self.room, self.panels = wire, port, wire.Room(), panels
        self.seen = Counter()  # what the closed clients saw of the server (wire.tally)

    def session(self):
        return self.room.call(self.wire.open_tab(self.port, panels=self.panels))

    def teacher(self):
        tab = self.room.call(self.wire.open_teacher(self.port))
        return tab, tab.code

    def follower(self, code: str):
        return self.room.call(self.wire.open_follower(self.port, code))

    def play(self, tabs) -> None:
        self.room.call(self.wire.play_all(tabs))

    def play_teacher(self, tab) -> None:
        self.play([tab])

    def pause(self, tabs) -> None:
        self.room.call(self.wire.pause_all(tabs))

    def counts(self, tabs) -> list:
        return self.room.call(self.wire.counts(tabs))

    def cpu(self) -> float:
        return self.room.call(self.wire.thread_cpu())

    def close(self, tabs) -> None:
        self.seen += self.room.call(self.wire.tally(tabs))
        self.room.call(self.wire.close_all(tabs))


@contextlib.contextmanager
def visitors(kind: str, port: int, viewport: tuple[int, int], panels: bool = True):
    """The clients of --clients: Chromium pages or wire clients (panels: in their windows), closed after."""
    if kind == "wire":
        clients = Wire(port, panels)
        try:
            yield clients
        finally:
            clients.room.close()
        return
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield Chromium(browser, port, viewport)
        finally:
            browser.close()


def follower_script(frames_per_rerun: int, figure_panels: bool) -> None:
    """One run of a follower's page parts, in a real script run (AppTest): the teacher publishes
    `frames_per_rerun` frames (built as its live view builds them, not timed), then follower_view (the live
    fragment's work) and one detail panel are timed; the times go to st.session_state["times"].
    figure_panels: the panel is handed to st.plotly_chart as a go.Figure built once, not as a dict that
    Streamlit validates into a Figure on every draw (a proposed change to app_pages/stage.py's sized)."""
    import time

    import plotly.graph_objects as go
    import streamlit as st

    from app_pages import stage
    from dropviz.live import LivePage, LiveSession, classroom, live_payload
    if "teacher" not in st.session_state:
        teacher = LiveSession()
        teacher.play()
        broadcast = classroom.open_class(teacher)
        clock = [0.0]  # the teacher's screen's time: reruns here come faster than a real second apart
        broadcast.clock = lambda: clock[0]
        st.session_state.update(teacher=teacher, broadcast=broadcast, times={"live": [], "panel": []}, clock=clock,
                                follower=LivePage(teacher, present=True, follow=broadcast.code,
                                                  figures=broadcast.figures))
    teacher, broadcast, times = st.session_state.teacher, st.session_state.broadcast, st.session_state.times
    state = st.session_state.follower
    state.full_run()  # a new epoch, as each timer rerun of a real follower is not: it resends one frame more
    pairs = []
    while len(pairs) < frames_per_rerun:
        pairs += teacher.pull()
    payload = live_payload(teacher, pairs[:frames_per_rerun], False, 1, max_neurons=stage.MAX_NEURONS)
    broadcast.publish(payload, True)
    st.session_state.clock[0] += frames_per_rerun * teacher.interval  # the teacher's screen has shown them all
    if figure_panels and not getattr(stage.sized, "as_figure", False):
        sized, cache = stage.sized, {}

        def as_figure(fig, *args):
            out = sized(fig, *args)
            if id(out) not in cache:
                cache.clear()
                cache[id(out)] = (out, go.Figure(out.to_dict()))
            return cache[id(out)][1]
        as_figure.as_figure = True
        stage.sized = as_figure
    t0 = time.perf_counter()
    stage.follower_view(state, True)
    t1 = time.perf_counter()
    stage._panel(state, "boundary", False)
    t2 = time.perf_counter()
    times["live"].append(t1 - t0)
    times["panel"].append(t2 - t1)


def in_process(fps: float, follow_seconds: list[float], reruns: int) -> None:
    """A follower's server CPU per displayed frame, from its two parts timed in process: the live fragment
    (every FOLLOW_SECONDS, carrying fps x FOLLOW_SECONDS frames) and the detail panel (every PANELS_EVERY s).
    Streamlit's own cost of a fragment rerun (starting it, sending its messages) is not in these times."""
    from streamlit.testing.v1 import AppTest

    from app_pages.stage import PANELS_EVERY
    print(f"in process: a teacher at {fps:g} frames/s, medians of {reruns} reruns after 3 warm-up runs")
    print(f"{'FOLLOW_SECONDS':>14} {'panel as':>9} {'live rerun ms':>13} {'panel ms':>9} "
          f"{'ms per follower frame':>21}")
    for panels in (False, True):
        for seconds in follow_seconds:
            frames = max(1, round(fps * seconds))
            at = AppTest.from_function(follower_script, args=(frames, panels), default_timeout=60)
            for _ in range(reruns + 3):
                at.run()
            assert not at.exception, at.exception
            times = {k: v[3:] for k, v in at.session_state["times"].items()}
            live, panel = 1000 * statistics.median(times["live"]), 1000 * statistics.median(times["panel"])
            per_frame = live / frames + panel / (fps * PANELS_EVERY)
            print(f"{seconds:14g} {'Figure' if panels else 'dict':>9} {live:13.2f} {panel:9.2f} {per_frame:21.3f}")


def loop_lag(runs: list[int], seconds: float, switch: float | None) -> None:
    """What the health check waits for, without a browser: the lag of an asyncio event loop (the thread that
    answers GET /_stcore/health) while `runs` sessions train in threads as Play asks them to (LiveSession.pull,
    at most 1/PULL_SECONDS requests a second each, through the same _SLOTS as the server). The lag is how late a
    50 ms sleep of the loop wakes: the loop needs the GIL, which Python hands between threads every
    sys.getswitchinterval() s (`switch` sets it)."""
    import asyncio

    from dropviz.live import LiveSession
    from dropviz.live.session import PULL_SECONDS
    if switch is not None:
        sys.setswitchinterval(switch)
    print(f"event-loop lag while N runs train in threads (switch interval {sys.getswitchinterval() * 1000:g} ms, "
          f"{seconds:g} s each, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
    print(f"{'runs':>5} {'lag median ms':>13} {'lag worst ms':>12} {'frames/s per run':>16} {'process cores':>13}")
    for n in runs:
        stop, frames = threading.Event(), [0] * n

        def train(i: int, stop=stop, frames=frames) -> None:
            live = LiveSession()
            live.play()
            while not stop.is_set():
                t0 = time.perf_counter()
                frames[i] += len(live.pull())
                stop.wait(max(0.0, PULL_SECONDS - (time.perf_counter() - t0)))
        threads = [threading.Thread(target=train, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(1.0)  # past the first frames' warm-up

        async def watch() -> list[float]:
            lags, end = [], time.perf_counter() + seconds
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                await asyncio.sleep(0.05)
                lags.append(time.perf_counter() - t0 - 0.05)
            return lags
        f0, c0, t0 = sum(frames), time.process_time(), time.perf_counter()
        lags = asyncio.run(watch())
        fps = (sum(frames) - f0) / (time.perf_counter() - t0) / max(1, n)
        cores = (time.process_time() - c0) / (time.perf_counter() - t0)
        stop.set()
        for t in threads:
            t.join()
        print(f"{n:5d} {1000 * statistics.median(lags):13.1f} {1000 * max(lags):12.1f} {fps:16.1f} {cores:13.2f}")


def measure_paused_class(clients, proc, k: int, seconds: float) -> None:
    """A follower's fixed cost on the real server, whatever the browsers' frame rate: a paused teacher with 0
    and then k followers. Each follower still reruns its live view every FOLLOW_SECONDS (sending the frame on
    screen again) and its panel every PANELS_EVERY, so (CPU with k - CPU with 0) / k is one follower's
    server time per second, its Streamlit overhead included; the browsers, with nothing to animate, hardly
    load the machine. Measured twice, alternating, and the medians printed."""
    teacher, code = clients.teacher()
    followers = []

    def cores() -> float:
        c0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(seconds)
        return (cpu_seconds(proc.pid) - c0) / (time.perf_counter() - t0)
    alone, with_k = [], []
    try:
        for _ in range(2):
            alone.append(cores())
            while len(followers) < k:
                followers.append(clients.follower(code))
            time.sleep(3)
            with_k.append(cores())
            clients.close(followers)
            followers = []
            time.sleep(3)
    finally:
        clients.close([teacher, *followers])
    a, w = statistics.median(alone), statistics.median(with_k)
    listed = [", ".join(f"{c:.3f}" for c in cs) for cs in (alone, with_k)]
    print(f"paused class: server {a:.3f} cores alone, {w:.3f} with {k} followers (medians of {listed[0]} and "
          f"{listed[1]}): {1000 * (w - a) / k:.2f} ms of server CPU per follower per second")


def merged(rounds: list[dict]) -> dict:
    """One row of the table from the rounds of one N: medians, but the worst of frames/s min, health and memory,
    and every round's ms per frame (the spread)."""
    row = {k: statistics.median(r[k] for r in rounds) for k in ("n", "fps_median", "cores", "ms_per_frame", "rss")}
    row.update(fps_min=min(r["fps_min"] for r in rounds), rss_max=max(r["rss_max"] for r in rounds),
               health_max=max(r["health_max"] for r in rounds), n=rounds[0]["n"],
               each=[r["ms_per_frame"] for r in rounds],
               client_cores=None if rounds[0]["client_cores"] is None else
               statistics.median(r["client_cores"] for r in rounds))
    return row


def client_column(rows: list[dict]) -> tuple[str, list[str]]:
    """The clients' own CPU (cores) as a last column, when they were measured (wire clients)."""
    if rows[0].get("client_cores") is None:
        return "", ["" for _ in rows]
    return f" {'client cores':>12}", [f" {r['client_cores']:12.3f}" for r in rows]


def table(rows: list[dict]) -> None:
    base = rows[0]["ms_per_frame"]
    head, cells = client_column(rows)
    print(f"{'sessions':>8} {'frames/s min':>12} {'median':>7} {'server cores':>12} {'ms/frame':>9} "
          f"{'RSS MB':>7} {'(max)':>6} {'health worst s':>14} {'ms/frame vs N=' + str(rows[0]['n']):>17}{head}")
    for r, cell in zip(rows, cells):
        print(f"{r['n']:8d} {r['fps_min']:12.1f} {r['fps_median']:7.1f} {r['cores']:12.2f} {r['ms_per_frame']:9.1f} "
              f"{r['rss']:7.0f} {r['rss_max']:6.0f} {r['health_max']:14.2f} {r['ms_per_frame'] / base:16.2f}x{cell}")
    if len(rows[0]["each"]) > 1:
        print("ms/frame in each round: " + "; ".join(
            f"{r['n']} sessions " + ", ".join(f"{v:.1f}" for v in r["each"]) for r in rows))
        print("(a row: medians over the rounds, but frames/s min, RSS max and health are the worst of them)")


def follower_table(own: float, rows: list[dict]) -> None:
    head, cells = client_column(rows)
    print(f"\nteacher alone: {own:.1f} ms of server CPU per frame (baseline)")
    print(f"{'followers':>9} {'teacher frames/s':>16} {'follower frames/s min':>21} {'median':>7} "
          f"{'added ms per follower frame':>27} {'RSS MB':>7}{head}")
    for r, cell in zip(rows, cells):
        print(f"{r['k']:9d} {r['teacher_fps']:16.1f} {r['fps_min']:21.1f} {r['fps_median']:7.1f} "
              f"{r['ms_per_follower_frame']:27.2f} {r['rss']:7.0f}{cell}")


def wire_tally(seen: Counter) -> None:
    """The playing wire clients' view of the server over the whole run (warm-ups included; not the followers)."""
    early = seen["FINISHED_EARLY_FOR_RERUN"]
    runs = early + seen["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"] + seen["FINISHED_SUCCESSFULLY"]
    print(f"wire clients, whole run: {seen['requests']} frame requests, {seen['given_up']} never answered (asked "
          f"again after 2 s, as the browser does); {runs} script runs, {early} of them ended early for another; "
          f"{seen['frames'] / max(1, seen['requests']):.1f} frames shown and "
          f"{seen['bytes'] / 1024 / max(1, seen['requests']):.0f} kB received per request")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", choices=("chromium", "wire"), default="chromium",
                    help="who plays the visitors: headless Chromium pages, or websocket clients that draw nothing "
                         "(bench/wire.py: the server's capacity, without browsers taking its CPU)")
    ap.add_argument("--sessions", default="1,4,8", help="comma list of how many sessions play at once")
    ap.add_argument("--seconds", type=float, default=15, help="length of each measuring window")
    ap.add_argument("--rounds", type=int, default=1, help="measure every N this many times, interleaved (medians)")
    ap.add_argument("--warmup", type=float, default=3, help="seconds of play before each window")
    ap.add_argument("--viewport", default="1920x1080", help="each page's size (smaller: cheaper browsers)")
    ap.add_argument("--panels-below-fold", action="store_true",
                    help="wire clients say the live page's Plotly panels are out of their windows, as a 1280x720 "
                         "browser does until scrolled to them (the server then skips redrawing them while playing)")
    ap.add_argument("--followers", default="4,8,16", help="comma list of followers of one teacher ('' for none)")
    ap.add_argument("--in-process", action="store_true",
                    help="time a follower's live fragment and panel in process instead (no server, no browser)")
    ap.add_argument("--follow-seconds", default="0.5,1.0",
                    help="with --in-process: the follower's rerun intervals to compare (comma list)")
    ap.add_argument("--fps", type=float, default=25, help="with --in-process: the teacher's frames/s")
    ap.add_argument("--paused-followers", type=int, default=0,
                    help="instead: a paused teacher with 0, then this many followers (a follower's fixed cost)")
    ap.add_argument("--loop-lag", default="", help="comma list of training runs: measure the event loop's lag "
                                                    "in process while they train (no server, no browser)")
    ap.add_argument("--switch-ms", type=float, default=None, help="with --loop-lag: sys.setswitchinterval, in ms")
    args = ap.parse_args()
    if args.loop_lag:
        sys.path.insert(0, str(ROOT))
        loop_lag([int(v) for v in args.loop_lag.split(",")], args.seconds,
                 None if args.switch_ms is None else args.switch_ms / 1000)
        return
    if args.in_process:
        sys.path.insert(0, str(ROOT))
        in_process(args.fps, [float(v) for v in args.follow_seconds.split(",")], 30)
        return
    counts = [int(s) for s in args.sessions.split(",")]
    viewport = tuple(int(v) for v in args.viewport.split("x"))
    shown = f"pages of {args.viewport}" if args.clients == "chromium" else "wire clients (bench/wire.py)" + (
        ", the live page's panels below the fold" if args.panels_below_fold else ", panels in view")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"{shown}, {args.warmup:g} s of play, then {args.seconds:g} s measured", flush=True)
    port = _free_port()
    proc = start_app(port)
    rows, follow = [], None
    try:
        with visitors(args.clients, port, viewport, not args.panels_below_fold) as clients:
            clients.close([clients.session()])  # the first visitor pays the imports
            print(f"server resident memory after the first visit: {rss_mb(proc.pid):.0f} MB", flush=True)
            if args.paused_followers:
                measure_paused_class(clients, proc, args.paused_followers, args.seconds)
                counts = []
            rounds = {n: [] for n in counts}
            for r in range(args.rounds):  # interleaved: a drift in the machine's speed hits every N alike
                for n in counts:
                    rounds[n].append(measure(clients, proc, port, n, args.seconds, args.warmup))
                    print(f"  {n} sessions measured (round {r + 1} of {args.rounds})", flush=True)
            rows = [merged(rounds[n]) for n in counts]
            ks = [int(k) for k in args.followers.split(",") if k.strip() and int(k) > 0] if counts else []
            follow = measure_followers(clients, proc, port, ks, args.seconds, args.warmup) if ks else None
            seen = getattr(clients, "seen", None)
    finally:
        stop_app(proc)
    if rows:
        table(rows)
    if follow:
        follower_table(*follow)
    if seen:
        wire_tally(seen)
    print((WIRE_NOTE if args.clients == "wire" else CAVEAT).format(cores=os.cpu_count()))
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
