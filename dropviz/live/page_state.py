"""The live page's state for one browser session, in one object. No Streamlit here.

The page (app_pages/live.py) keeps one LivePage in st.session_state[PAGE_KEY]; the widgets keep their own
keys (w_...), as Streamlit needs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import Config
from .session import DEFAULT_SPEED, SPEED_BY_NAME, LiveSession, speed_from_query

PAGE_KEY = "live_page"


@dataclass
class Drawn:
    """A Plotly figure as last sent for one panel."""
    token: tuple  # (run id, iteration, anything else the figure depends on)
    epoch: int    # the full run in which it was last sent
    figure: Any


@dataclass
class LivePage:
    live: LiveSession                    # the runs: main, twin, ghosts; playing or not
    url_warnings: list[str] = field(default_factory=list)  # bad URL parameters, shown until a setting changes
    epoch: int = 0                       # full runs so far; a new one makes the browser drop frames not yet shown
    panels_ready: bool = False           # the browser drew the first frame: the Plotly panels may follow
    figures: dict[str, Drawn] = field(default_factory=dict)  # per panel, the figure last sent
    pulled: int = 0                      # the browser's last frame request answered (the stage's live view)
    rerun_page: bool = False             # a pulled frame diverged: the next fragment run reruns the page

    @classmethod
    def from_query(cls, params: dict) -> LivePage:
        """A new session's page: settings and speed from the URL; bad ones fall back, with a warning each."""
        cfg, warnings = Config.from_query(params)
        speed, speed_warning = speed_from_query(params.get("speed", SPEED_BY_NAME[DEFAULT_SPEED].key))
        if speed_warning:
            warnings.append(speed_warning)
        return cls(LiveSession(cfg, speed), warnings)

    def full_run(self) -> int:
        """Count a full run of the page (not a fragment's own rerun); returns its epoch."""
        self.epoch += 1
        return self.epoch

    def figure(self, key: str, make: Callable[[], Any], depends: tuple = ()) -> Any:
        """The figure panel `key` should show; `make()` builds it only when it would differ.

        Unchanged inputs (run, iteration, `depends`) resend the same figure. While playing, the first
        draw in a full run (a slider moved) resends the last figure of the same run too, and the panels'
        own timer brings them up to date: rebuilding the Plotly panels there held back the live view's
        next frame by up to ~0.5 s (measured), resending identical figures much less. Errors from
        `make()` propagate and leave nothing cached.
        """
        live = self.live
        token = (live.run_id, live.step_count, *depends)
        drawn = self.figures.get(key)
        if drawn is not None and (drawn.token == token or (
                live.playing and drawn.epoch != self.epoch and drawn.token[0] == live.run_id)):
            drawn.epoch = self.epoch
            return drawn.figure
        fig = make()
        self.figures[key] = Drawn(token, self.epoch, fig)
        return fig
