"""Server-side cost of the Variants page per displayed frame, per variant: one browser request's frames
(Pair.pull: FRAMES_PER_PULL iterations of the variant and its twin, each recorded) and their payload as JSON
(dropviz/variants/payload.py), against the old page's tick (OLD_TICK iterations, one recorded frame, and its
three Plotly figures as JSON). Medians of several repeats; frames/s is what one core could sustain if the
browser and Streamlit cost nothing. Asserts nothing (a shared machine is noisy). bench/fps.py --page variants
measures the page in a browser.

    python bench/variants.py [--repeats 15]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dropviz.figures import variants as fv
from dropviz.variants.payload import view_payload
from dropviz.variants.run import FRAMES_PER_PULL, Pair, Spec

CASES = [("conv", "standard"), ("conv", "channel"), ("conv", "block"), ("recurrent", "naive"),
         ("recurrent", "variational"), ("dense", "standard"), ("dense", "dropconnect")]
OLD_TICK = 5  # iterations per tick of the old page (Plotly redrawn by a timer fragment)
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


def pull(pair: Pair) -> None:
    """One browser request: its frames computed, and the payload the browser gets, as JSON."""
    json.dumps(view_payload(pair.pull(), pair.history, pair.spec, 0, 50))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'variant':24} {'new: pull of ' + str(FRAMES_PER_PULL) + ' ms':>18} {'ms/frame':>9} {'frames/s':>9} "
          f"{'old: tick ms':>13} {'figures ms':>11} {'ticks/s':>8}")
    for family, variant in CASES:
        pair = Pair(Spec(family, variant, 0.3))
        pair.step(OLD_TICK)  # warm-up
        new = median_ms(lambda pair=pair: pull(pair), args.repeats)
        step = median_ms(lambda pair=pair: pair.step(OLD_TICK), args.repeats)
        figures = median_ms(lambda pair=pair, masks=MASKS[family]: draw(pair, masks), args.repeats)
        per = new / FRAMES_PER_PULL
        print(f"{family + ' ' + variant:24} {new:18.1f} {per:9.1f} {1e3 / per:9.1f} {step:13.1f} {figures:11.1f} "
              f"{1e3 / (step + figures):8.1f}")


if __name__ == "__main__":
    main()
