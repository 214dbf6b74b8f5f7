"""A long experiment run in a background thread, with progress, cancel and its result.

Plain Python (no Streamlit): the Experiments page polls `fraction` and `message` and sets `stop`.
One experiment trains at a time per process: a classroom server has 2 cores, and thirty sweeps at
once would each crawl. Later jobs wait their turn, and can be cancelled while they wait.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pandas as pd
import torch

from .config import Config
from .experiments import EXPERIMENTS, Cancelled

RUNNING = threading.BoundedSemaphore(1)


@dataclass
class Job:
    name: str
    cfg: Config
    params: dict
    fraction: float = 0.0
    message: str = "starting"
    result: pd.DataFrame | None = None
    error: str = ""
    cancelled: bool = False
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> "Job":
        self.thread = threading.Thread(target=self._work, daemon=True, name=f"dropviz-{self.name}")
        self.thread.start()
        return self

    def _report(self, fraction: float, message: str) -> None:
        self.fraction, self.message = min(max(fraction, 0.0), 1.0), message

    def _work(self) -> None:
        torch.set_num_threads(1)
        while not RUNNING.acquire(timeout=0.2):
            if self.stop.is_set():
                self.cancelled = True
                self.seconds = time.perf_counter() - self.started
                return
            self.message = "waiting for another experiment on this server to finish"
        try:
            self.result = EXPERIMENTS[self.name].run(self.cfg, **self.params, progress=self._report, cancel=self.stop)
        except Cancelled:
            self.cancelled = True
        except ValueError as err:
            self.error = str(err)
        except Exception as err:  # noqa: BLE001 - shown as one line, never a traceback in the browser
            self.error = f"The experiment failed: {type(err).__name__}: {err}"
        finally:
            RUNNING.release()
        self.seconds = time.perf_counter() - self.started
