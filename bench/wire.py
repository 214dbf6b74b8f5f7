"""A browser tab at the protocol level: Streamlit's websocket, the live view's playback clock, nothing drawn.

bench/classroom.py --clients wire runs N of these in one thread of its own process, so N sessions can play
on the server without N Chromiums taking the CPU it needs. Each WireTab:

- opens /_stcore/stream as its own Streamlit session (its first BackMsg is the browser's: a rerun with the
  URL's query string and the context info) and answers what the page asks of a browser: the live page's
  first view asks for the panels ("ready"), a fragment with run_every asks for its reruns (autoRerun);
- presses a button by its key (a trigger_value on the button's widget id, in the button's fragment);
- plays the live view (key "live_view") as dropviz/live/live_view.js does: Playback below mirrors its
  default export (the `data.pull` branch for a page that plays, the other for a class follower), pump,
  schedule, ask, answered and the 2 s "ask again" watchdog of listen(), in the same units (ms) and with the
  same constants; a frame is counted as displayed when pump shows it.

The wire format (a trigger's widget id and JSON, the fragment each rerun names) is what Chromium sends on the
same page with Streamlit 1.67, logged once with Playwright's page.on("websocket") and decoded with
streamlit.proto's BackMsg and ForwardMsg.

What it does not do, so what it measures is the server's side only: it draws nothing and lays nothing out;
it sends a rerun's triggers alone, where a browser sends every widget's value with each (~2 kB; values the
server already holds, so nothing reruns differently); it reports no window size (the presenter view then
lays out for 1280x720) and no cached message hashes (a browser's list holds only earlier live view
payloads, which are never sent again, so the server sends the same bytes); it receives every payload the
server sends, where a busy browser may draw only the newer of two that come close together.
"""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

JS = (Path(__file__).resolve().parent.parent / "dropviz" / "live" / "live_view.js").read_text(encoding="utf-8")
MAX_AHEAD = int(re.search(r"const MAX_AHEAD = (\d+);", JS).group(1))
ASK_AGAIN_MS, WATCH_MS = 2000, 500  # listen(): a request unanswered this long is given up, checked this often
EVENTS = "$$STREAMLIT_INTERNAL_KEY_{id}__events"  # a Components v2 element's triggers, as the browser sends them
CODE = re.compile(r"Class code: ([A-Z0-9]+)")


def widget_key(wid: str) -> str:
    """The key of a widget, from its id ("$$ID-<hash>-<key>")."""
    return wid.split("-", 2)[-1]


class Playback:
    """live_view.js's `st` and the functions that run it, line for line: ask, schedule, pump and answered are the
    JS functions of those names, render is its default export, stop_pulling is stopPulling and watchdog is
    listen()'s "ask again" setInterval; show() only counts. `send(name, value)` is setTriggerValue, setTimeout is
    loop.call_later, performance.now() is the loop's clock in ms. `panels`: what panelsInView() says (whether the
    page's Plotly panels are in the window)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send, panels: bool = True):
        self.loop, self.send, self.panels = loop, send, panels
        self.queue: list[dict] = []
        self.timer = self.pump_timer = None
        self.asked = self.answered_n = 0
        self.asked_at = self.rtt = self.ahead = self.due = 0.0
        self.want = self.pulling = False
        self.stopped = self.play_id = self.epoch = None
        self.step, self.depth, self.interval = -1, 1, 40
        self.drawn = self.given_up = 0  # frames shown; requests the watchdog gave up on
        self.requested = False
        self.watch = self.loop.call_later(WATCH_MS / 1000, self.watchdog)

    def now(self) -> float:  # performance.now()
        return self.loop.time() * 1000

    def later(self, ms: float, fn):  # setTimeout
        return self.loop.call_later(max(0.0, ms) / 1000, fn)

    def show(self, frame: dict) -> None:
        self.step = frame["step"]
        self.drawn += 1

    def ask(self) -> None:
        self.timer = None
        if not self.want or self.asked - self.answered_n >= self.depth:
            return
        self.asked += 1
        self.asked_at = self.now()
        self.send("pull", {"n": self.asked, "panels": self.panels})

    def schedule(self) -> None:
        if (not self.want or self.asked - self.answered_n >= self.depth or self.timer
                or len(self.queue) > (self.ahead or 1)):
            return
        now = self.now()
        self.timer = self.later(max(now, self.asked_at + self.interval) - now, self.ask)

    def watchdog(self) -> None:  # listen()'s setInterval: a frame asked for and never answered, ask again
        if self.asked > self.answered_n and self.now() - self.asked_at > ASK_AGAIN_MS:
            self.answered_n = self.asked
            self.given_up += 1
            self.schedule()
        self.watch = self.loop.call_later(WATCH_MS / 1000, self.watchdog)

    def pump(self) -> None:
        self.pump_timer = None
        if not self.queue:
            if self.pulling:
                self.schedule()
            return
        if self.pulling and not self.want:
            del self.queue[:-1]
        self.show(self.queue.pop(0))
        if self.pulling:
            self.schedule()
        if not self.queue:
            return
        now = self.now()
        self.due = max(now, (self.due or now) + self.interval)
        self.pump_timer = self.later(self.due - now, self.pump)

    def answered(self, now: float) -> None:
        if not self.asked_at:
            return
        rtt = now - self.asked_at
        self.rtt = 0.7 * self.rtt + 0.3 * rtt if self.rtt else rtt
        self.ahead = max(1, min(MAX_AHEAD, -(-self.rtt // self.interval)))

    def cancel(self, name: str) -> None:
        handle = getattr(self, name)
        if handle is not None:
            handle.cancel()
            setattr(self, name, None)

    def render(self, data: dict) -> None:
        """The default export: Streamlit hands the element new data."""
        if not data or "frames" not in data:
            return
        if not data["frames"] and (data.get("pull") or self.step < 0):
            return  # nothing new: only a follower's rerun (which may say the class stalled) goes on
        self.interval = data["interval_ms"]
        if data.get("pull"):
            self.depth = data.get("pull_depth") or 1
            if data["pulled"] > self.answered_n and data["pulled"] == self.asked:
                self.answered(self.now())
            self.answered_n = max(self.answered_n, data["pulled"])
            self.asked = max(self.asked, self.answered_n)
            self.play_id = data["play_id"]
            self.want = bool(data["playing"]) and data["play_id"] != self.stopped
            if not self.want:
                self.cancel("timer")
                self.cancel("pump_timer")
            self.pulling = True
            last = self.queue[-1]["step"] if self.queue else self.step
            fresh = [f for f in data["frames"] if f["step"] > last or not data["playing"]]
            self.queue += fresh or data["frames"][-1:]
            if data.get("rush"):
                del self.queue[:-1]
                self.cancel("pump_timer")
            if not self.pump_timer:
                self.due = self.now()
                self.pump()
            self.schedule()
        else:
            self.pulling = False
            if self.epoch != data["epoch"]:
                self.epoch = data["epoch"]
                self.queue = []
                self.cancel("pump_timer")
            if data["frames"]:
                self.queue += data["frames"]
                limit = 2 * len(data["frames"]) + 1
                del self.queue[:-limit]
            if not self.pump_timer:
                self.due = self.now()
                self.pump()
        if data.get("request_panels") and not self.requested:
            self.requested = True
            self.send("ready", True)

    def stop_pulling(self) -> None:
        """stopPulling: Pause pressed (the browser stops asking before Python hears of it)."""
        if self.want:
            self.want, self.stopped = False, self.play_id
            self.cancel("timer")

    def close(self) -> None:
        for name in ("timer", "pump_timer", "watch"):
            self.cancel(name)


class WireTab:
    """One Streamlit session over the websocket, on `query` (e.g. "" for /, "present=1", "follow=CODE"); `panels`:
    whether the page's Plotly panels are in its window (False: below the fold, as the live page's at 1280x720)."""

    def __init__(self, port: int, query: str = "", panels: bool = True):
        self.port, self.query, self.panels = port, query, panels
        self.ws = None
        self.loop = asyncio.get_running_loop()
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, str]] = {}  # key -> (widget id, fragment id), as last drawn
        self.labels: dict[str, str] = {}                # button key -> its label
        self.views: dict[str, Playback] = {}            # Components v2 element key -> its playback
        self.reruns: dict[str, tuple[float, asyncio.TimerHandle]] = {}  # fragment id -> (interval, timer)
        self.code = ""                                  # a class code the page shows
        self.sent = self.received = 0                   # BackMsgs sent; bytes received
        self.finished: Counter[str] = Counter()         # script runs, by how they finished
        self.reader = None

    async def open(self) -> WireTab:
        self.ws = await connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"],
                                max_size=None)
        self.reader = asyncio.ensure_future(self.read())
        self.rerun([], fragment="")
        return self

    def rerun(self, widgets: list, fragment: str, auto: bool = False) -> None:
        msg = BackMsg()
        rs = msg.rerun_script
        rs.query_string = self.query
        rs.page_script_hash = self.page_hash
        rs.fragment_id = fragment
        rs.is_auto_rerun = auto
        rs.widget_states.SetInParent()
        rs.widget_states.widgets.extend(widgets)
        rs.context_info.timezone, rs.context_info.locale = "UTC", "en-US"
        rs.context_info.url = f"http://127.0.0.1:{self.port}/" + (f"?{self.query}" if self.query else "")
        self.sent += 1
        asyncio.ensure_future(self.ws.send(msg.SerializeToString()))

    def trigger(self, key: str, event: str, value) -> None:
        """setTriggerValue(event, value) of the Components v2 element `key`."""
        wid, fragment = self.widgets[key]
        state = BackMsg().rerun_script.widget_states.widgets.add()
        state.id = EVENTS.format(id=wid)
        state.json_trigger_value = json.dumps([{"event": event, "value": value}])
        self.rerun([state], fragment)

    def press(self, key: str) -> None:
        """Click the st.button `key` (its widget id and fragment as last drawn)."""
        wid, fragment = self.widgets[key]
        state = BackMsg().rerun_script.widget_states.widgets.add()
        state.id, state.trigger_value = wid, True
        self.rerun([state], fragment)

    async def read(self) -> None:
        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            self.received += len(raw)
            self.page_hash = msg.metadata.active_script_hash or self.page_hash
            kind = msg.WhichOneof("type")
            if kind == "new_session" and not msg.metadata.run.fragment_ids:
                for _, timer in self.reruns.values():  # cleanupAutoReruns: a full run starts
                    timer.cancel()
                self.reruns.clear()
            elif kind == "script_finished":
                self.finished[ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)] += 1
            elif kind == "auto_rerun":
                self.auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
            elif kind == "delta" and msg.delta.HasField("new_element"):
                self.element(msg.delta.new_element, msg.delta.fragment_id)

    def auto_rerun(self, fragment: str, interval: float) -> None:
        """handleAutoRerun: a fragment with run_every is rerun every `interval` s (one timer per fragment)."""
        if fragment in self.reruns and self.reruns[fragment][0] == interval:
            return
        if fragment in self.reruns:
            self.reruns[fragment][1].cancel()

        def tick():
            self.rerun([], fragment, auto=True)
            self.reruns[fragment] = (interval, self.loop.call_later(interval, tick))
        self.reruns[fragment] = (interval, self.loop.call_later(interval, tick))

    def element(self, el, fragment: str) -> None:
        kind = el.WhichOneof("type")
        if kind == "button":
            key = widget_key(el.button.id)
            self.widgets[key], self.labels[key] = (el.button.id, fragment), el.button.label
        elif kind == "bidi_component":
            key = widget_key(el.bidi_component.id)
            self.widgets[key] = (el.bidi_component.id, fragment)
            if el.bidi_component.component_name == "dropviz.live_view":
                if key not in self.views:
                    self.views[key] = Playback(self.loop, lambda event, value, key=key: self.trigger(key, event, value),
                                               self.panels)
                data = json.loads(el.bidi_component.json)
                self.views[key].render(json.loads(data) if isinstance(data, str) else data)  # payload_text
        elif kind == "markdown" and not self.code:
            found = CODE.search(el.markdown.body)
            self.code = found.group(1) if found else ""

    @property
    def live(self) -> Playback:
        """The page's live view (the first view, which the live page shows before its panels, is another)."""
        return self.views["live_view"]

    async def close(self) -> None:
        for view in self.views.values():
            view.close()
        for _, timer in self.reruns.values():
            timer.cancel()
        await self.ws.close()
        self.reader.cancel()


class Room:
    """An event loop in a thread of its own, for WireTabs; call() runs a coroutine there and waits for it."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout: float = 180):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def stop():
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()
        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def wait_for(test, timeout: float = 120, what: str = "the page") -> None:
    """Poll `test()` until it is true (the page reached a state), or say what did not happen."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not test():
        if loop.time() > end:
            raise TimeoutError(f"wire client: {what} did not happen within {timeout:g} s")
        await asyncio.sleep(0.05)


async def open_tab(port: int, query: str = "", panels: bool = True) -> WireTab:
    """A new visitor, once its live view and its Play button are there."""
    tab = await WireTab(port, query, panels).open()
    await wait_for(lambda: "live_view" in tab.views and "play" in tab.labels, what=f"/?{query}'s live view")
    return tab


async def play(tab: WireTab) -> None:
    """Press Play and wait for the button to say Pause and the live view to move."""
    tab.press("play")
    await wait_for(lambda: tab.labels["play"] == "❚❚ Pause" and tab.live.want, what="Play")


async def pause(tab: WireTab) -> None:
    tab.live.stop_pulling()  # the browser stops asking on the button's pointerdown, before Python hears of it
    tab.press("play")
    await wait_for(lambda: tab.labels["play"] == "▶ Play", what="Pause")


async def open_teacher(port: int) -> WireTab:
    """The presenter view, which opens a class: once its live view, Play and class code are there."""
    tab = await WireTab(port, "present=1").open()
    await wait_for(lambda: "live_view" in tab.views and "play" in tab.labels and tab.code, what="the class code")
    return tab


async def open_follower(port: int, code: str) -> WireTab:
    """A student following the class, once its live view has shown a frame."""
    tab = await WireTab(port, f"follow={code}").open()
    await wait_for(lambda: "live_view" in tab.views and tab.live.drawn, what="a follower's first frame")
    return tab


async def play_all(tabs: list[WireTab]) -> None:
    await asyncio.gather(*(play(tab) for tab in tabs))


async def pause_all(tabs: list[WireTab]) -> None:
    await asyncio.gather(*(pause(tab) for tab in tabs))


async def close_all(tabs: list[WireTab]) -> None:
    await asyncio.gather(*(tab.close() for tab in tabs))


async def counts(tabs: list[WireTab]) -> list[tuple[int, float]]:
    """Each tab's frames shown so far and its clock in ms, as bench/fps.py's WATCH gives a page's."""
    return [(tab.live.drawn, tab.live.now()) for tab in tabs]


async def tally(tabs: list[WireTab]) -> Counter:
    """What the tabs that asked for frames saw of the server: frame requests, those given up (unanswered after
    ASK_AGAIN_MS), frames shown, bytes received, script runs by how they finished. Followers ask for none."""
    out = Counter()
    for tab in tabs:
        live = tab.live
        if live.asked:
            out.update(tab.finished)
            out.update(requests=live.asked, given_up=live.given_up, frames=live.drawn, bytes=tab.received)
    return out


async def thread_cpu() -> float:
    """CPU seconds of the clients' own thread (every WireTab of a Room runs in it)."""
    return time.thread_time()
