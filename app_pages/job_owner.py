"""Ties an experiment job to the Streamlit session that asked for it, and stops the server cleanly.

Streamlit has no public on-session-end hook. Its runtime does answer `is_active_session(id)`: a
session stops being active when its browser tab disconnects (closed, reloaded, or the network
dropped), and a disconnected one is kept only for `server.disconnectedSessionTTL` in case it comes
back. A job's `alive` check (dropviz.job polls it twice a second) therefore asks the runtime, and
says the visitor is gone once their session has been inactive for GRACE seconds in a row: a quick
reconnect after a network blip keeps the job, and closing the tab frees the line within 5 s (measured
in tests/test_browser_jobs.py: about 3 s, of which 1 s is GRACE), as long as a chunk of the
experiment's training (25 iterations) takes under a second or two.

At exit (SIGTERM or Ctrl+C; Streamlit stops its server, then Python shuts down), a training thread
cannot be interrupted inside a PyTorch operation: waiting for it takes up to a chunk of training,
which with heavy settings is minutes. `_exit_without_waiting` cancels every job, gives the one
training EXIT_GRACE seconds to reach its chunk's end, and otherwise ends the process at once with
os._exit(0) instead of waiting, or of tearing down PyTorch under a thread still inside it.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from streamlit import runtime
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dropviz import job

GRACE = 1.0  # seconds a session may be disconnected before its job is cancelled
EXIT_GRACE = 1.0  # seconds the training thread gets to stop at exit
_GUARDED = threading.Lock()
_guard_installed = False


def alive_while(is_active: Callable[[], bool], grace: float = GRACE) -> Callable[[], bool]:
    """A check that is True while `is_active()` is, or has been False for less than `grace` seconds."""
    gone_since: list[float | None] = [None]

    def alive() -> bool:
        if is_active():
            gone_since[0] = None
            return True
        now = time.monotonic()
        if gone_since[0] is None:
            gone_since[0] = now
        return now - gone_since[0] < grace

    return alive


def _server() -> Runtime | None:
    """Streamlit's runtime when this runs in a real server (AppTest puts a mock in its place)."""
    if not runtime.exists():
        return None
    instance = runtime.get_instance()
    return instance if type(instance) is Runtime else None


def session_alive() -> Callable[[], bool] | None:
    """The `alive` check of a job asked for by this script run's session; None outside a server."""
    server, ctx = _server(), get_script_run_ctx()
    if server is None or ctx is None:
        return None
    session_id = ctx.session_id
    return alive_while(lambda: server.is_active_session(session_id))


def _exit_without_waiting() -> None:
    if job.shutdown(grace=EXIT_GRACE):
        return
    print("dropviz: stopped while an experiment was training; it was cancelled.", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(0)


def guard_exit() -> None:
    """In a real server, once: at exit, cancel the experiments and do not wait for a training chunk."""
    global _guard_installed
    if _server() is None:
        return
    with _GUARDED:
        if _guard_installed:
            return
        _guard_installed = True
    # run by threading's shutdown before dropviz.job's own hook and concurrent.futures' join (reverse order)
    getattr(threading, "_register_atexit", lambda f: None)(_exit_without_waiting)
