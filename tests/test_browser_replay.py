"""The replay file plays by itself in Chromium from a file:// URL, with every network request blocked."""
from __future__ import annotations

from dropviz.cli import main
from tests.test_browser import chromium

COUNTER = ("() => { const t = document.querySelector('[data-testid=\"iteration-counter\"]'); "
           "return t && t.textContent; }")


def test_replay_plays_offline_from_a_file(tmp_path, capsys):
    out = tmp_path / "replay.html"
    assert main(["train", "--steps", "60", "--replay", str(out), "--replay-last", "40"]) == 0
    capsys.readouterr()
    requests, errors = [], []
    with chromium() as browser:
        # bypass_csp: the file forbids eval, which wait_for_function uses; the route below still sees every request
        page = browser.new_page(viewport={"width": 1280, "height": 720}, bypass_csp=True)
        page.on("pageerror", lambda err: errors.append(str(err)))

        def block(route):
            requests.append(route.request.url)
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                route.abort()
        page.route("**/*", block)
        page.goto(out.as_uri())
        page.wait_for_function(f"({COUNTER})() !== null", timeout=20_000)
        first = int(page.evaluate(COUNTER).split()[1])
        assert 21 <= first <= 60  # the last 40 of 60 iterations
        page.wait_for_function(f"parseInt(({COUNTER})().split(' ')[1]) >= {first + 3}", timeout=20_000)
        # Pause holds the counter; Step moves it by exactly one iteration
        page.get_by_role("button", name="❚❚ Pause").click()
        held = page.evaluate(COUNTER)
        page.wait_for_timeout(500)
        assert page.evaluate(COUNTER) == held
        page.get_by_role("button", name="Step ▶").click()
        assert page.evaluate(COUNTER) == f"Iteration {int(held.split()[1]) + 1}"
        assert page.locator(".curves polyline").count() >= 4  # the run's and the twin's loss curves
        page.screenshot(path=str(tmp_path / "replay.png"))
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


FOLLOWER_RERUNS = """() => {
  const data = JSON.parse(document.getElementById("replay-data").textContent);
  const host = document.createElement("div");
  document.body.appendChild(host);
  const base = { epoch: 1, interval_ms: 60000, look: data.look, curves: data.curves, playing: true };
  const draw = (extra) => drawLiveView({ data: { ...base, ...extra }, parentElement: host, setTriggerValue: () => {} });
  const waiting = () => host.textContent.includes("waiting for the teacher");
  draw({ frames: data.frames.slice(0, 5) });  // a follower's rerun: five frames, the first drawn now
  const queued = host.__playback.queue.length;
  draw({ frames: [] });  // the next rerun has nothing new
  const kept = host.__playback.queue.length;
  draw({ frames: [], stalled: true });  // the teacher's page stopped sending frames
  const said = waiting();
  draw({ frames: data.frames.slice(5, 6) });  // frames again
  return [queued, kept, said, waiting()];
}"""


def test_a_followers_live_view_keeps_its_frames_on_an_empty_rerun_and_says_when_the_class_stalled(tmp_path):
    """live_view.js's follower branch, driven through the replay file's copy of it: a rerun with no new frames
    leaves the frames still to draw, and one that says the class stalled puts that in the status line."""
    from dropviz import Config
    from dropviz.live import LiveSession
    from dropviz.replay import replay_html
    live = LiveSession(Config(width=8))
    live.play()
    out = tmp_path / "replay.html"
    out.write_text(replay_html(live, live.play_frames(6)), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720}, bypass_csp=True)
        page.goto(out.as_uri())
        page.wait_for_function(f"({COUNTER})() !== null", timeout=20_000)
        assert page.evaluate(FOLLOWER_RERUNS) == [4, 4, True, False]
