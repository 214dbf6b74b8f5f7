"""The live page's state for one browser session, in one object. No Streamlit here.

The page (app_pages/live.py) keeps one LivePage in st.session_state[PAGE_KEY]; the widgets keep their own
keys (w_...), as Streamlit needs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import VIEW_FIELD, Config, format_value
from .session import DEFAULT_SPEED, SPEED_BY_NAME, LiveSession, speed_from_query

PAGE_KEY = "live_page"
# The presenter view's URL parameters: present=1, panel=NAME, hide=NAME,NAME (like TensorFlow Playground's)
CONTROLS = ("play", "step", "reset", "p", "input_p", "test_time", "mode", "panel", "speed")
PANELS = ("boundary", "rescale", "gradient")
DEFAULT_PANEL = "boundary"
VIEW_PARAMS = ("present", "panel", "hide", "notation")
NOTATION = VIEW_FIELD["notation"]


def _last(value) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value)


def view_from_query(params: dict) -> tuple[bool, str, frozenset[str], list[str]]:
    """present, panel and hidden controls from URL parameters; a warning sentence for each bad one."""
    warnings = []
    present = False
    if "present" in params:
        raw = _last(params["present"]).strip().lower()
        if raw in ("1", "true", "yes", "on"):
            present = True
        elif raw not in ("0", "false", "no", "off"):
            warnings.append(f"present={raw!r} is not valid: expected 1 (presenter view) or 0 (the full page)")
    panel = DEFAULT_PANEL
    if "panel" in params:
        raw = _last(params["panel"]).strip().lower()
        if raw in PANELS:
            panel = raw
        else:
            warnings.append(f"panel={raw!r} is not valid: expected one of {', '.join(PANELS)}; "
                            f"showing {DEFAULT_PANEL}")
    hidden = set()
    if "hide" in params:
        names = [n.strip().lower() for n in _last(params["hide"]).split(",") if n.strip()]
        hidden = {n for n in names if n in CONTROLS}
        unknown = [n for n in names if n not in CONTROLS]
        if unknown:
            shown = ", ".join(repr(n[:30]) for n in unknown[:5])
            warnings.append(f"hide= names no control called {shown}: it takes a comma list of "
                            f"{', '.join(CONTROLS)}")
    return present, panel, frozenset(hidden), warnings


def view_query(present: bool, panel: str, hidden) -> dict[str, str]:
    """The URL parameters of a view: only what differs from the full page's defaults."""
    out = {}
    if present:
        out["present"] = "1"
        out["panel"] = panel
    if hidden:
        out["hide"] = ",".join(c for c in CONTROLS if c in hidden)
    return out


def notation_from_query(params: dict, default: str = NOTATION.default) -> tuple[str, list[str]]:
    """The notation p is shown in (?notation=drop|retain; dropviz.notation), and a warning sentence if bad.
    Without the parameter: `default` (the notation this session already shows)."""
    if "notation" not in params:
        return default, []
    value, problem = NOTATION.read(_last(params["notation"]).strip().lower())
    if problem:
        return default, [f"notation={value!r} {problem}; showing notation={default}"]
    return value, []


def notation_query(notation: str) -> dict[str, str]:
    """The URL parameter of a notation: only when it is not the default."""
    return {} if notation == NOTATION.default else {"notation": format_value(notation)}


@dataclass
class Drawn:
    """A Plotly figure as last sent for one panel."""
    token: tuple  # (run id, iteration, anything else the figure depends on)
    epoch: int    # the full run in which it was last sent
    figure: Any
    make: Callable[[], Any]  # how the page draws it now, to build it again (LivePage.draw_ahead)
    depends: tuple           # and what that depends on besides the run and the iteration
    request: int = 0  # the frame request it was built just before (LivePage.draw_ahead), else 0


@dataclass
class LivePage:
    live: LiveSession                    # the runs: main, twin, ghosts; playing or not
    url_warnings: list[str] = field(default_factory=list)  # bad URL parameters, shown until a setting changes
    epoch: int = 0                       # full runs so far; a new one makes the browser drop frames not yet shown
    panels_ready: bool = False           # the browser drew the first frame: the Plotly panels may follow
    figures: dict[str, Drawn] = field(default_factory=dict)  # per panel, the figure last sent
    present: bool = False                # the presenter view (?present=1)
    panel: str = DEFAULT_PANEL           # its detail panel
    hidden: frozenset[str] = frozenset()  # controls left out of its top bar (?hide=)
    pulled: int = 0                      # the browser's last frame request answered (the stage's live view)
    pulled_frames: list = field(default_factory=list)  # (frame, twin frame) computed for that request, unsent
    follow_frames: bool = False          # the detail panels follow every pulled frame (bench/baseline_page.py)
    rerun_page: bool = False             # a pulled frame diverged: the next fragment run reruns the page
    fragments: set[str] = field(default_factory=set)  # keys of the fragments the last full run drew
    panels_at: float = 0.0               # when the detail panels were last redrawn while playing (monotonic s)
    broadcast: Any = None                # the teacher's class (classroom.Broadcast) this page publishes to
    follow: str = ""                     # the class code this page follows (read-only: it trains nothing)
    rush: bool = False                   # a setting changed while playing: the browser goes back to its frame on
                                         # screen ("hold"), and the run with it
    held: int = 0                        # the browser's last "hold" answered
    follow_seen: int = 0                 # the last of the class's frames this page was sent
    follow_epoch: int = 0                # the epoch (full run) in which it was sent
    data_problem: str = ""                # why the last uploaded data file was refused, until the next upload
    sent: tuple[int, int] = (0, -1)      # (run_id, step) of the last frame sent to the live view
    echoes: dict[str, tuple] = field(default_factory=dict)  # widget key -> (value replaced, value set, until):
                                         # stage.set_widget / stage.undo_echoes
    notation: str = NOTATION.default     # how p is shown (?notation=retain: the 2014 paper's retain probability)
    drawn_keys: set[str] = field(default_factory=set)  # panels drawn since the last draw_ahead (those it builds)

    @classmethod
    def from_query(cls, params: dict) -> LivePage:
        """A new session's page: settings and speed from the URL; bad ones fall back, with a warning each."""
        cfg, warnings = Config.from_query(params)
        speed, speed_warning = speed_from_query(params.get("speed", SPEED_BY_NAME[DEFAULT_SPEED].key))
        if speed_warning:
            warnings.append(speed_warning)
        present, panel, hidden, view_warnings = view_from_query(params)
        notation, notation_warnings = notation_from_query(params)
        return cls(LiveSession(cfg, speed), warnings + view_warnings + notation_warnings, present=present,
                   panel=panel, hidden=hidden, notation=notation)

    def full_run(self) -> int:
        """Count a full run of the page (not a fragment's own rerun); returns its epoch."""
        self.epoch += 1
        self.fragments = set()
        return self.epoch

    def frames_to_send(self) -> list:
        """(frame, twin frame) pairs for the live view's next payload: the pulled ones not sent yet, then the
        engine's own (the last frame drawn is the engine's state, which Pause and Step continue from).

        A pull in an overlapping rerun of this session (Streamlit runs a new request while the old one ends)
        can add its frames after another run has sent a newer state: those are dropped, and never shown in
        place of the frame a Step made (seen in Chromium: the counter stayed on the frame before the Step).
        """
        pulled, self.pulled_frames = self.pulled_frames, []
        current = self.live.current_pair()
        run, sent = self.sent
        newer = [pair for pair in pulled
                 if (run != self.live.run_id or sent < pair[0].step) and pair[0].step < current[0].step]
        self.sent = (self.live.run_id, current[0].step)
        return [*newer, current]

    def figure(self, key: str, make: Callable[[], Any], depends: tuple = ()) -> Any:
        """The figure panel `key` should show; `make()` builds it only when it would differ.

        Unchanged inputs (run, iteration, `depends`) resend the same figure. While playing, the first
        draw in a full run (a slider moved) resends the last figure of the same run too, and the panels'
        own timer brings them up to date: rebuilding the Plotly panels there held back the live view's
        next frame by up to ~0.5 s (measured), resending identical figures much less. The redraw after a
        frame request sends what draw_ahead built just before it. Errors from `make()` propagate and leave
        nothing cached.
        """
        token = self._token(depends)
        self.drawn_keys.add(key)
        drawn = self.figures.get(key)
        if drawn is not None and self._still_shown(drawn, token):
            drawn.epoch, drawn.make, drawn.depends = self.epoch, make, tuple(depends)
            return drawn.figure
        fig = make()
        self.figures[key] = Drawn(token, self.epoch, fig, make, tuple(depends))
        return fig

    def _token(self, depends) -> tuple:
        """What a figure of this run's current iteration depends on: (run id, iteration, *depends)."""
        return (self.live.run_id, self.live.step_count, *depends)

    def _still_shown(self, drawn: Drawn, token: tuple) -> bool:
        """Whether the figure last sent stays: its inputs are the same, or, while playing and of this run, it is
        the first draw of a full run, or draw_ahead built it for this request's redraw with the same `depends`."""
        if drawn.token == token:
            return True
        if not self.live.playing or drawn.token[0] != token[0]:
            return False
        return drawn.epoch != self.epoch or (drawn.request == self.pulled > 0 and drawn.token[2:] == token[2:])

    def draw_ahead(self) -> None:
        """Just before the frame request `pulled` computes seconds of frames ahead of what the browser shows: the
        panels drawn since the last call are built again now, from the frame about to be on screen, and the redraw
        that follows the request sends them. Built after it, they showed an iteration up to two seconds ahead of
        the live view's counter (seen at 1280x720: "iteration 375" beside "Iteration 237")."""
        keys, self.drawn_keys = self.drawn_keys, set()
        for key in keys:
            drawn = self.figures.get(key)
            if drawn is None or drawn.token[0] != self.live.run_id:
                continue  # not drawn, or an earlier run's
            token = self._token(drawn.depends)
            if drawn.token != token:
                try:
                    drawn = Drawn(token, drawn.epoch, drawn.make(), drawn.make, drawn.depends)
                except Exception:  # noqa: BLE001 - the redraw builds it again, and says in words what failed
                    del self.figures[key]
                    continue
                self.figures[key] = drawn
            drawn.request = self.pulled
