"""Experiments in the background: one at a time per server, a waiting line, cancel at any point."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dropviz.config import Config
from dropviz.experiments import P_VALUES
from dropviz.job import WAITING, Job

TINY = Config(width=12, n_train=24, depth=2)
LONG = {"seeds": 3, "steps": 100_000}  # minutes of work: these tests always cancel it


def running(params=LONG) -> Job:
    """A job that holds the server's one slot: it has started training."""
    return training(Job("p-sweep", TINY, params).start())


def training(job: Job) -> Job:
    """`job`, once it has started training (within 30 s)."""
    deadline = time.monotonic() + 30
    while job.fraction == 0 and job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.running and not job.waiting and job.fraction > 0
    return job


@pytest.fixture
def first():
    job = running()
    yield job
    job.cancel()
    assert job.wait(30)


def test_a_job_finishes_with_its_result():
    job = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    assert job.wait(60)
    assert not job.running and not job.cancelled and job.error == ""
    assert job.fraction == 1.0 and set(job.result["p"]) == set(P_VALUES) and job.seconds > 0


def test_bad_parameters_are_one_line():
    job = Job("p-sweep", TINY, {"seeds": 1, "steps": 0}).start()
    assert job.wait(60)
    assert job.result is None and not job.cancelled
    assert job.error == "steps=0 is out of range: expected an integer from 1 to 1000000"


def test_a_second_job_waits_and_says_so(first):
    second = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    time.sleep(0.3)
    assert second.running and second.waiting and second.message == WAITING and second.fraction == 0
    first.cancel()
    assert second.wait(60)  # its turn came once the first was done
    assert second.result is not None and not second.cancelled


def test_cancelling_a_waiting_job_ends_it_without_training(first):
    second = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    second.cancel()
    assert not second.running and second.wait(0)  # at once: it never reached the worker
    assert second.cancelled and second.result is None and second.fraction == 0
    assert first.running  # the one training goes on


def test_setting_stop_on_a_waiting_job_skips_it_when_its_turn_comes(first):
    second = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()
    second.stop.set()
    first.cancel()
    assert second.wait(30) and second.cancelled and second.result is None and second.fraction == 0


def test_cancelling_a_running_job_stops_it_at_the_next_chunk():
    job = running()
    job.cancel()
    assert job.message == "cancelling..."
    assert job.wait(10)
    assert job.cancelled and job.result is None and job.fraction < 0.01
    after = Job("p-sweep", TINY, {"seeds": 1, "steps": 20}).start()  # the slot is free again
    assert after.message != WAITING and after.wait(60) and after.result is not None


def test_leaving_python_stops_a_running_experiment():
    """The worker is not a daemon thread: without the exit hook, stopping a server would wait out the sweep."""
    script = ("import time; from dropviz.config import Config; from dropviz.job import Job\n"
              "job = Job('p-sweep', Config(width=12, n_train=24), {'seeds': 3, 'steps': 1_000_000}).start()\n"
              "while job.fraction == 0: time.sleep(0.05)\n"
              "print('training', flush=True)\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout == "training\n", result.stderr
    assert time.monotonic() - started < 60  # a million iterations would take hours
