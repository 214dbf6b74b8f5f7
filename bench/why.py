"""The Why page's compute per section, uncached (its first visit on a server): training and drawing, medians.

    python bench/why.py [--repeats 3]

Prints seconds; asserts nothing. The page caches the results per Config (st.cache_data), so later visits
only draw."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
torch.set_num_threads(1)

from app_pages import why  # noqa: E402


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    n = parser.parse_args().repeats
    sections = {"ensemble (moons run, K = 8 and 100 thinned networks)":
                (why.ensemble_view.__wrapped__, why.ENSEMBLE_RUN, why.ENSEMBLE_STEPS),
                "co-adaptation (digits run and its twin)":
                (why.features_view.__wrapped__, why.FEATURES_RUN, why.FEATURES_STEPS)}
    for name, (fn, cfg, steps) in sections.items():
        times = [timed(fn, cfg, steps) for _ in range(n)]
        print(f"{name}: median {statistics.median(times):.2f} s over {n} (min {min(times):.2f} s)")


if __name__ == "__main__":
    main()
