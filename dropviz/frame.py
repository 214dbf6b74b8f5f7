"""What the engine hands the figures: the state of one training iteration.

Frames are frozen: a frame is a record of what happened, built once by the Trainer.
Factors (scale, test_scale, input_scale) are dropout.multipliers' for the frame's p and mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerFrame:
    """One hidden layer at one iteration, for the tracked example."""
    mask: np.ndarray   # bool (width,), True = kept
    pre: np.ndarray    # activations before dropout
    post: np.ndarray   # pre * mask * scale: what the next layer receives in training
    scale: float       # training factor of a kept neuron: 1/(1-p) in inverted mode, 1.0 in classic mode
    grad: np.ndarray   # d(tracked example's loss)/d(pre); exactly 0 where dropped
    p: float
    test_pre: np.ndarray   # activations at test time (nothing dropped)
    test_post: np.ndarray  # what the next layer receives at test time (x (1-p) in classic mode)
    test_scale: float      # 1.0 in inverted mode, 1-p in classic mode


@dataclass(frozen=True)
class Frame:
    step: int            # iterations done; this frame describes iteration `step`
    p: float
    input_p: float
    mode: str
    lr: float
    train_loss: float    # loss of this iteration's batch, with dropout: what is optimised
    test_loss: float     # at test time (no dropout), on the test set
    train_acc: float     # at test time, on the whole training set
    test_acc: float
    clean_train_loss: float  # at test time, on the whole training set
    diverged: bool
    layers: list[LayerFrame]
    tracked_index: int       # which training example the frame follows
    tracked_in_batch: bool   # False: it was not in this batch; its detail comes from a probe pass
    x: np.ndarray            # the tracked example's input
    y: int                   # its label
    output: np.ndarray       # its class probabilities in this (thinned) training pass
    test_output: np.ndarray  # its class probabilities at test time
    input_mask: np.ndarray | None = None  # bool (n_inputs,) when input_p > 0
    input_scale: float = 1.0
    message: str = ""        # why the run stopped, when diverged
    scored_at: int | None = None  # None: the test-time numbers (test loss and accuracy, clean training loss and
                                  # accuracy) are this iteration's; else the iteration they are from (a frame
                                  # recorded with Trainer.step(score=False), as the live view plays)
