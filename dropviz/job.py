"""A long experiment run in the background, with progress, cancel and its result.

Plain Python (no Streamlit): the Experiments page polls `fraction` and `message` and calls `cancel()`.
One experiment trains at a time per process: a classroom server has 2 cores, and thirty sweeps at
once would each crawl. Jobs go to one ThreadPoolExecutor with a single worker, whose queue is the
waiting line: a waiting job says so, and cancelling it takes it out of the line without training.
A running job stops at its next short chunk of training once `stop` is set.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import torch

from .config import Config
from .experiments import EXPERIMENTS, Cancelled

WAITING = "waiting for another experiment on this server to finish"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dropviz-experiment")
_LOCK = threading.Lock()
_UNFINISHED: set[Job] = set()  # started, not yet finished or cancelled: the one running and those waiting


@dataclass(eq=False)
class Job:
    name: str
    cfg: Config
    params: dict
    fraction: float = 0.0
    message: str = "starting"
    result: pd.DataFrame | None = None
    error: str = ""
    cancelled: bool = False
    started: float = field(default_factory=time.perf_counter)  # when it was asked for; reset when it starts
    seconds: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    future: Future | None = None

    @property
    def running(self) -> bool:
        """Waiting or training: not finished, failed or cancelled yet."""
        return self.future is not None and not self.future.done()

    @property
    def waiting(self) -> bool:
        """In line behind another experiment, not training yet."""
        return self.running and not self.future.running()

    def start(self) -> Job:
        with _LOCK:
            if _UNFINISHED:
                self.message = WAITING
            _UNFINISHED.add(self)
        self.future = _EXECUTOR.submit(self._work)
        return self

    def cancel(self) -> None:
        """Stop it: a waiting job leaves the line at once, a running one at its next chunk."""
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
            _UNFINISHED.discard(self)

    def _work(self) -> None:
        if self.stop.is_set():  # cancelled while waiting, by setting stop alone
            self._end(cancelled=True)
            return
        torch.set_num_threads(1)
        self.started, self.message = time.perf_counter(), "starting"
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


def _stop_all() -> None:
    """At interpreter exit, before the executor's worker is joined: stop the experiments, so that
    stopping the server takes a chunk of training, not the rest of a sweep."""
    with _LOCK:
        jobs = list(_UNFINISHED)
    for job in jobs:
        job.cancel()


# threading runs these in reverse order of registration, so this one before concurrent.futures'
# join of the worker (registered when it was imported above); atexit would run after that join.
getattr(threading, "_register_atexit", lambda f: None)(_stop_all)
