"""A long experiment run in the background, with progress, cancel and its result.

Plain Python (no Streamlit): the Experiments page polls `fraction` and `message` and calls `cancel()`.
One experiment trains at a time per process: a classroom server has 2 cores, and thirty sweeps at
once would each crawl. Jobs go to one ThreadPoolExecutor with a single worker, whose queue is the
waiting line: a waiting job says so (its place and the estimated wait), and cancelling it takes it
out of the line without training. A running job stops at its next short chunk of training once
`stop` is set.

Nothing is left running:
- `alive`, if given, is asked about twice a second by a watcher thread; once it answers False (the
  visitor's page is gone) the job is cancelled, waiting or running.
- A job that would need more memory than the limit (`memory_limit_gb()`, from
  DROPVIZ_EXPERIMENT_MEMORY_GB, 2 GB by default) is refused before it queues, with the figure.
- A running job is stopped after the time limit (`time_limit_s()`, from DROPVIZ_EXPERIMENT_MINUTES,
  10 min by default), so one visitor cannot hold the line.
- At interpreter exit, every job is cancelled (`shutdown`).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import torch

from . import budget
from .config import Config
from .experiments import EXPERIMENTS, Cancelled

WAITING = "waiting for another experiment on this server to finish"
MEMORY_ENV, MINUTES_ENV = "DROPVIZ_EXPERIMENT_MEMORY_GB", "DROPVIZ_EXPERIMENT_MINUTES"
MEMORY_GB, MINUTES = 2.0, 10.0  # the defaults
WATCH_EVERY = 0.25  # seconds between the watcher's looks at `alive` and the time limit
GONE, TIME, USER = "gone", "time", "user"  # why a job was cancelled

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dropviz-experiment")
_LOCK = threading.Lock()
_UNFINISHED: list[Job] = []  # started, not yet finished or cancelled: the one running, then those waiting in order
_WATCHER: threading.Thread | None = None


def _setting(env: str, default: float) -> tuple[float, str]:
    """A positive number from the environment, else the default and a sentence saying why."""
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default, ""
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        return default, f"{env}={raw!r} is not a positive number; using {default:g}."
    return value, ""


def memory_limit_gb() -> float:
    """The most memory one experiment may need, in GB (DROPVIZ_EXPERIMENT_MEMORY_GB, default 2)."""
    return _setting(MEMORY_ENV, MEMORY_GB)[0]


def time_limit_s() -> float:
    """The longest one experiment may train, in seconds (DROPVIZ_EXPERIMENT_MINUTES, default 10 min)."""
    return 60.0 * _setting(MINUTES_ENV, MINUTES)[0]


def setting_warnings() -> list[str]:
    """A sentence for each limit set to something unusable in the environment."""
    return [w for w in (_setting(MEMORY_ENV, MEMORY_GB)[1], _setting(MINUTES_ENV, MINUTES)[1]) if w]


def minutes(seconds: float) -> str:
    """'40 s', '3 min', '1 h 5 min': a duration as a visitor reads it."""
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    m = round(seconds / 60)
    return f"{m} min" if m < 60 else f"{m // 60} h {m % 60} min"


@dataclass(eq=False)
class Job:
    name: str
    cfg: Config
    params: dict
    alive: Callable[[], bool] | None = None  # False once whoever asked for it is gone
    memory_limit: float | None = None  # GB; None: memory_limit_gb()
    time_limit: float | None = None  # seconds; None: time_limit_s()
    fraction: float = 0.0
    message: str = "starting"
    result: pd.DataFrame | None = None
    error: str = ""
    cancelled: bool = False
    reason: str = ""  # why it was cancelled: USER, GONE or TIME
    started: float = field(default_factory=time.perf_counter)  # when it was asked for; reset when it starts
    training: bool = False  # it has reached the worker
    seconds: float = 0.0
    memory: float = 0.0  # estimated bytes
    work: float = 0.0  # estimated multiply-adds
    stop: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None

    def __post_init__(self):
        if self.memory_limit is None:
            self.memory_limit = memory_limit_gb()
        if self.time_limit is None:
            self.time_limit = time_limit_s()

    @property
    def running(self) -> bool:
        """Waiting or training: not finished, failed or cancelled yet."""
        return self.future is not None and not self.future.done()

    @property
    def waiting(self) -> bool:
        """In line behind another experiment, not training yet."""
        return self.running and not self.future.running()

    @property
    def position(self) -> int:
        """0 while training (or done), else its place in the line: 1 is next."""
        with _LOCK:
            line = [j for j in _UNFINISHED if not j.training]
        return line.index(self) + 1 if self in line else 0

    def remaining(self) -> float:
        """Estimated seconds until it is done: from its own progress while training, else from its
        work at the rate of the job training now; never past its time limit."""
        if self.training:
            elapsed = time.perf_counter() - self.started
            guess = elapsed * (1 - self.fraction) / self.fraction if self.fraction > 0.01 else self.time_limit
            return max(0.0, min(guess, self.time_limit - elapsed))
        rate = _rate()
        return self.time_limit if rate is None else min(self.work / rate, self.time_limit)

    def wait_estimate(self) -> float:
        """Estimated seconds before a waiting job starts training: what is ahead of it."""
        with _LOCK:
            ahead = _UNFINISHED[:_UNFINISHED.index(self)] if self in _UNFINISHED else []
        return sum(j.remaining() for j in ahead)

    def start(self) -> Job:
        """Queue it, unless its memory estimate is over the limit: then it ends at once with `error` saying so."""
        try:
            self.memory = budget.memory_bytes(self.name, self.cfg, self.params)
            self.work = budget.work(self.name, self.cfg, self.params)
        except (ValueError, TypeError):  # bad parameters: the experiment itself says what is wrong
            self.memory = self.work = 0.0
        if self.memory > self.memory_limit * 1e9:
            self.error = (f"This run would need about {self.memory / 1e9:.1f} GB of memory, more than the "
                          f"{self.memory_limit:g} GB one experiment may use on this server ({MEMORY_ENV}): use "
                          f"fewer seeds, fewer or narrower layers, fewer training points or a smaller batch.")
            self.future = Future()
            self.future.set_result(None)
            return self
        with _LOCK:
            if _UNFINISHED:
                self.message = WAITING
            _UNFINISHED.append(self)
        self.future = _EXECUTOR.submit(self._work)
        _watch()
        return self

    def cancel(self, reason: str = USER) -> None:
        """Stop it: a waiting job leaves the line at once, a running one at its next chunk."""
        if not self.reason and self.running:
            self.reason = reason
        self.stop.set()
        if self.future is not None and self.future.cancel():
            self._end(cancelled=True)
        elif self.running:
            self.message = "cancelling..."

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it has finished or been cancelled (or timeout seconds); True if it has."""
        if self.future is None:
            return False
        try:
            self.future.exception(timeout)
        except CancelledError:
            pass
        except TimeoutError:
            return False
        return True

    def _report(self, fraction: float, message: str) -> None:
        self.fraction, self.message = min(max(fraction, 0.0), 1.0), message

    def _end(self, cancelled: bool = False) -> None:
        self.cancelled = self.cancelled or cancelled
        self.seconds = time.perf_counter() - self.started
        with _LOCK:
            if self in _UNFINISHED:
                _UNFINISHED.remove(self)

    def _work(self) -> None:
        if self.stop.is_set():  # cancelled while waiting, by setting stop alone
            self._end(cancelled=True)
            return
        torch.set_num_threads(1)
        self.started, self.message, self.training = time.perf_counter(), "starting", True
        try:
            self.result = EXPERIMENTS[self.name].run(self.cfg, **self.params, progress=self._report, cancel=self.stop)
        except Cancelled:
            self.cancelled = True
        except ValueError as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - shown as one line, never a traceback in the browser
            self.error = f"The experiment failed: {type(err).__name__}: {err}"
        finally:
            self._end()


def _rate() -> float | None:
    """Multiply-adds per second of the job training now, once it has made some progress."""
    with _LOCK:
        now = next((j for j in _UNFINISHED if j.training), None)
    if now is None or now.fraction < 0.01 or not now.work:
        return None
    return now.work * now.fraction / max(time.perf_counter() - now.started, 1e-3)


def _check_all() -> None:
    """Cancel the jobs whose visitor is gone, and stop the one past its time limit."""
    with _LOCK:
        jobs = list(_UNFINISHED)
    for job in jobs:
        try:
            gone = job.alive is not None and not job.alive()
        except Exception:  # noqa: BLE001 - a failing check must not stop the watcher: count it as alive
            gone = False
        if gone:
            job.cancel(GONE)
        elif job.training and time.perf_counter() - job.started > job.time_limit:
            job.cancel(TIME)


def _watch() -> None:
    """Start the watcher thread if it is not running (a daemon: it never holds up exit)."""
    global _WATCHER
    with _LOCK:
        if _WATCHER is not None and _WATCHER.is_alive():
            return
        _WATCHER = threading.Thread(target=_watcher, name="dropviz-job-watcher", daemon=True)
        _WATCHER.start()


def _watcher() -> None:
    while True:
        time.sleep(WATCH_EVERY)
        _check_all()


def shutdown(grace: float | None = None) -> bool:
    """Cancel every job; then wait up to `grace` seconds (None: as long as it takes) for the one
    training to reach the end of its chunk. True if nothing is training any more."""
    with _LOCK:
        jobs = list(_UNFINISHED)
    for job in jobs:
        job.cancel()
    deadline = None if grace is None else time.monotonic() + grace
    return all(job.wait(None if deadline is None else max(0.0, deadline - time.monotonic())) for job in jobs)


def _stop_all() -> None:
    """At interpreter exit, before the executor's worker is joined: stop the experiments, so that
    stopping the server takes a chunk of training, not the rest of a sweep."""
    shutdown(grace=0.0)


# threading runs these in reverse order of registration, so this one before concurrent.futures'
# join of the worker (registered when it was imported above); atexit would run after that join.
getattr(threading, "_register_atexit", lambda f: None)(_stop_all)
