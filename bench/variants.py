"""Server-side cost of one Variants page tick, per variant: TICK_STEPS iterations of the variant and its
twin with a recorded frame (Pair.step), and building the page's figures from it. Medians of several repeats;
frames/s is what the server could sustain if drawing cost nothing. Asserts nothing (a shared machine is noisy).

    python bench/variants.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dropviz.figures import variants as fv
from dropviz.variants.run import TICK_STEPS as STEPS_PER_TICK
from dropviz.variants.run import Pair, Spec

CASES = [("conv", "standard"), ("conv", "channel"), ("conv", "block"), ("recurrent", "naive"),
         ("recurrent", "variational"), ("dense", "standard"), ("dense", "dropconnect")]
MASKS = {"conv": fv.conv_maps_figure, "recurrent": fv.rnn_mask_figure, "dense": fv.dense_figure}


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - started))
    return statistics.median(times)


def draw(pair: Pair, masks) -> None:
    """The page's three figures of the latest frame, as JSON as Streamlit sends them."""
    f = pair.frame
    for fig in (masks(f), fv.rescale_figure(f), fv.curves_figure(pair.history, pair.spec)):
        fig.to_plotly_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'variant':24} {'step x' + str(STEPS_PER_TICK) + ' ms':>12} {'figures ms':>11} {'ticks/s':>8}")
    for family, variant in CASES:
        pair = Pair(Spec(family, variant, 0.3))
        pair.step(STEPS_PER_TICK)  # warm-up
        step = median_ms(lambda pair=pair: pair.step(STEPS_PER_TICK), args.repeats)
        figures = median_ms(lambda pair=pair, masks=MASKS[family]: draw(pair, masks), args.repeats)
        print(f"{family + ' ' + variant:24} {step:12.1f} {figures:11.1f} {1e3 / (step + figures):8.1f}")


if __name__ == "__main__":
    main()
