"""Nothing left running: a job whose visitor is gone is cancelled, one over the memory limit is refused,
one past the time limit is stopped, a waiting one knows its place, and exit does not wait for training."""
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_job import LONG, TINY, training

from app_pages.job_owner import alive_while
from dropviz import budget
from dropviz.config import Config
from dropviz.job import GONE, MEMORY_ENV, MINUTES_ENV, TIME, Job, memory_limit_gb, setting_warnings, time_limit_s

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"seeds": 1, "steps": 20}
HEAVY = Config(dataset="spiral", depth=8, width=256, n_train=2000, batch_size=2000)  # the heavy settings


@pytest.fixture
def first():
    job = training(Job("p-sweep", TINY, LONG).start())
    yield job
    job.cancel()
    assert job.wait(30)


def test_a_waiting_job_whose_visitor_left_leaves_the_line_without_training(first):
    here = [True]
    second = Job("p-sweep", TINY, SHORT, alive=lambda: here[0]).start()
    third = Job("p-sweep", TINY, SHORT).start()
    assert second.position == 1 and third.position == 2
    here[0] = False
    assert second.wait(2)  # the watcher looks four times a second
    assert second.cancelled and second.reason == GONE and not second.training and second.fraction == 0
    assert second.result is None and third.position == 1 and first.running


def test_a_running_job_whose_visitor_left_is_cancelled_and_the_next_one_starts():
    here = [True]
    job = training(Job("p-sweep", TINY, LONG, alive=lambda: here[0]).start())
    after = Job("p-sweep", TINY, SHORT).start()
    assert after.waiting
    here[0] = False
    gone = time.monotonic()
    assert job.wait(5)
    assert job.cancelled and job.reason == GONE and job.result is None
    assert time.monotonic() - gone < 5
    assert after.wait(30) and after.result is not None and not after.cancelled


def test_the_next_job_starts_within_5_s_of_the_visitor_leaving():
    here = [True]
    job = training(Job("p-sweep", TINY, LONG, alive=lambda: here[0]).start())
    after = Job("p-sweep", TINY, LONG).start()
    try:
        here[0] = False
        gone = time.monotonic()
        while not after.training and time.monotonic() - gone < 10:
            time.sleep(0.01)
        assert after.training and time.monotonic() - gone < 5
        assert job.cancelled and job.reason == GONE
    finally:
        after.cancel()
        assert after.wait(30)


def test_alive_while_allows_a_short_disconnect_then_says_gone():
    active = [True]
    alive = alive_while(lambda: active[0], grace=0.2)
    assert alive()
    active[0] = False
    assert alive()  # a blip: Streamlit may reconnect
    active[0] = True
    assert alive()
    active[0] = False
    assert alive()
    time.sleep(0.25)
    assert not alive()


def test_an_over_limit_run_is_refused_with_the_figure():
    job = Job("p-sweep", HEAVY, {"seeds": 3, "steps": 1500}).start()  # 30 networks fitting 1600 points (400 held out)
    assert job.memory_limit == 2.0 and not job.running and job.wait(0) and job.position == 0
    assert not job.training and job.result is None and not job.cancelled
    assert job.error.startswith("This run would need about 2.3 GB of memory, more than the 2 GB one experiment")
    assert MEMORY_ENV in job.error and job.error.endswith(".") and ". " not in job.error  # one sentence
    ok = Job("p-sweep", HEAVY, {"seeds": 1, "steps": 1500})  # 10 networks: 0.9 GB
    assert budget.memory_bytes(ok.name, ok.cfg, ok.params) < 1e9


def test_the_limits_are_settings(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "4")
    monkeypatch.setenv(MINUTES_ENV, "0.5")
    assert memory_limit_gb() == 4.0 and time_limit_s() == 30.0 and setting_warnings() == []
    assert Job("p-sweep", HEAVY, {"seeds": 3}).memory_limit == 4.0
    monkeypatch.setenv(MEMORY_ENV, "lots")
    monkeypatch.delenv(MINUTES_ENV)
    assert memory_limit_gb() == 2.0 and time_limit_s() == 600.0
    assert setting_warnings() == [f"{MEMORY_ENV}='lots' is not a positive number; using 2."]


def test_a_job_past_the_time_limit_stops_and_keeps_nothing():
    job = training(Job("p-sweep", TINY, LONG, time_limit=0.5).start())
    assert job.wait(5)
    assert job.cancelled and job.reason == TIME and job.result is None and 0.5 <= job.seconds < 3


def test_a_waiting_job_knows_its_place_and_wait(first):
    second = Job("p-sweep", TINY, {"seeds": 3, "steps": 2000}).start()
    third = Job("p-sweep", TINY, SHORT).start()
    time.sleep(0.5)  # the first has made progress: its rate prices the others' work
    assert (second.position, third.position, first.position) == (1, 2, 0)
    assert 0 < second.wait_estimate() <= first.time_limit
    assert second.wait_estimate() < third.wait_estimate() <= 2 * first.time_limit
    second.cancel()
    assert third.position == 1
    third.cancel()


def test_the_memory_estimate_is_within_15_percent_of_the_measured_peak():
    """In a fresh process: the peak resident memory an experiment adds, against the estimate."""
    script = """
import torch
torch.set_num_threads(1)
from dropviz.budget import memory_bytes
from dropviz.config import Config
from dropviz.experiments import p_sweep
cfg = Config(dataset="spiral", depth=4, width=256, n_train=1000, batch_size=1000)
p_sweep(cfg.replace(width=8, n_train=40, batch_size=40), seeds=1, steps=1)  # imports, kernels
status = lambda key: int(next(l for l in open("/proc/self/status") if l.startswith(key)).split()[1]) * 1024
open("/proc/self/clear_refs", "w").write("5")  # forget the peak so far (a fresh venv compiles its imports)
base = status("VmRSS")
p_sweep(cfg, seeds=1, steps=2)
print(memory_bytes("p-sweep", cfg, {"seeds": 1}), max(status("VmHWM"), status("VmRSS")) - base)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    estimate, measured = map(int, out.stdout.split())
    assert estimate > 1e8 and abs(estimate / measured - 1) < 0.15, (estimate, measured)


def test_the_servers_exit_hook_does_not_wait_for_a_training_chunk():
    """Chunks are sized to about half a second, so a fast machine would end one within the hook's
    1 s grace; here they are long and the grace short, as when one iteration takes seconds."""
    script = ("import threading, time; from app_pages import job_owner; from dropviz.config import Config\n"
              "from dropviz.job import Job; from dropviz import experiments\n"
              "experiments.CHUNK_SECONDS = 30.0; job_owner.EXIT_GRACE = 0.05\n"
              "threading._register_atexit(job_owner._exit_without_waiting)\n"
              "cfg = Config(dataset='spiral', depth=8, width=256, n_train=300, batch_size=300)\n"
              "job = Job('p-sweep', cfg, {'seeds': 1, 'steps': 1000}).start()\n"
              "while not job.training: time.sleep(0.01)\n"
              "time.sleep(0.3)\n"
              "print(time.time(), flush=True)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    took = time.time() - float(proc.stdout.split()[0])
    assert proc.returncode == 0 and "an experiment was training; it was cancelled" in proc.stderr, proc.stderr
    assert "terminate called" not in proc.stderr and took < 3, took
