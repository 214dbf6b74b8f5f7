"""A standalone HTML replay: the live view's own drawing code (live_view.js) and a recorded list of frames in one
file, which plays, pauses and steps with no server and no network (for slides: it opens from a USB stick).

The frames are exactly what the live view was sent (dropviz/live/payload.py): the counter, the diagram and the
loss curves of the run and its twin, drawn by the same JavaScript.
"""
from __future__ import annotations

import json
from pathlib import Path

from .frame import Frame
from .live.payload import LOOK, curves_payload, frame_payload
from .live.session import LiveSession
from .live.view_css import CSS

JS = (Path(__file__).resolve().parent / "live" / "live_view.js").read_text(encoding="utf-8")
INTERVAL_MS = 120  # slow enough to follow each mask on a projector
STATUS = "replay of a recorded run"

PLAYER = """
const data = JSON.parse(document.getElementById("replay-data").textContent);
const view = document.getElementById("view"), pos = document.getElementById("position");
const playButton = document.getElementById("play"), seek = document.getElementById("seek");
let i = 0, timer = null;
seek.max = data.frames.length - 1;
function render() {
  drawLiveView({ data: { epoch: i, interval_ms: data.interval_ms, look: data.look, curves: data.curves,
                         frames: [data.frames[i]] },
                 parentElement: view, setTriggerValue: () => {} });
  seek.value = i;
  pos.textContent = `frame ${i + 1} of ${data.frames.length}`;
}
function pause() { clearInterval(timer); timer = null; playButton.textContent = "▶ Play"; }
function play() {
  if (i >= data.frames.length - 1) { i = 0; render(); }
  playButton.textContent = "❚❚ Pause";
  timer = setInterval(() => { if (i < data.frames.length - 1) { i += 1; render(); } else pause(); }, data.interval_ms);
}
function step(by) { pause(); i = Math.max(0, Math.min(data.frames.length - 1, i + by)); render(); }
playButton.onclick = () => (timer ? pause() : play());
document.getElementById("back").onclick = () => step(-1);
document.getElementById("forward").onclick = () => step(1);
seek.oninput = () => { pause(); i = Number(seek.value); render(); };
document.addEventListener("keydown", (e) => {
  if (e.key === " ") { e.preventDefault(); timer ? pause() : play(); }
  else if (e.key === "ArrowRight") step(1);
  else if (e.key === "ArrowLeft") step(-1);
});
render();
play();
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>dropviz replay: {title}</title>
<style>
body {{ font-family: {font}; margin: 1rem; color: #222; }}
.controls {{ display: flex; gap: 0.6rem; align-items: center; margin-bottom: 0.6rem; font-size: 18px; }}
.controls button {{ font-size: 18px; padding: 0.2rem 0.8rem; }}
.controls input {{ flex: 1; }}
{css}
</style></head>
<body>
<div class="controls"><button id="back" title="one frame back (←)">◀ Step</button>
<button id="play" title="play or pause (space)">▶ Play</button>
<button id="forward" title="one frame on (→)">Step ▶</button>
<input id="seek" type="range" min="0" value="0" aria-label="frame"><span id="position"></span></div>
<div id="view"></div>
<p style="font-size: 14px">{title}</p>
<script type="application/json" id="replay-data">{data}</script>
<script>
{js}
{player}
</script>
</body></html>
"""


def replay_data(live: LiveSession, pairs: list[tuple[Frame, Frame]]) -> dict:
    """The frames of `pairs` as the live view draws them, and the loss curves of `live`'s run and twin."""
    frames = []
    for frame, twin in pairs:
        shown = frame_payload(live, frame, twin, test_time=False)
        shown["status"] = STATUS
        frames.append(shown)
    return {"interval_ms": INTERVAL_MS, "look": LOOK, "curves": curves_payload(live), "frames": frames}


def replay_html(live: LiveSession, pairs: list[tuple[Frame, Frame]]) -> str:
    """One HTML file: the live view's JavaScript, the frames of `pairs` and a player; nothing loaded from elsewhere."""
    if not pairs:
        raise ValueError("a replay needs at least one iteration: train first")
    data = json.dumps(replay_data(live, pairs), separators=(",", ":"), ensure_ascii=False)
    js = JS.replace("export default function (component)", "function drawLiveView(component)")
    if "function drawLiveView(" not in js:
        raise RuntimeError("live_view.js no longer exports its drawing function as replay.py expects")
    title = live.label() if not live.table else f"{live.table.summary()}: {live.label()}"
    return PAGE.format(title=_escape(title), font=LOOK["font"], css=CSS, data=data.replace("</", "<\\/"), js=js,
                       player=PLAYER)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
