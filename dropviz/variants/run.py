"""Train one variant beside its p = 0 twin, and record what dropout did: `VariantFrame`.

A run takes its four streams from `model.run_seeds(seed)` as the dense engine does: initial weights,
batch order (`model.BatchOrder`), dropout masks, probe passes. So the twin (same family, no dropout,
same seed) starts from identical weights and sees identical batches, and a seed reproduces bit for bit.
Training is plain autograd with Adam; a frame's masks are those of a probe pass on the tracked digit,
drawn from the probe stream, so recording never changes training.
"""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..data import Dataset, make_dataset
from ..model import BatchOrder, run_seeds
from .nets import build

TRACKED = 0
N_TRAIN, LR, BATCH = 500, 0.01, 32
# The Variants page plays one iteration per frame, a frame every FRAME_SECONDS when the server keeps up. The
# browser asks for the next frames while it draws (a pull): PULL_SECONDS of them, computed at once. A request
# costs a Streamlit rerun besides its frames, so more frames per request share it; Pause takes the engine back
# to the frame on screen (Pair.rewind), so frames computed ahead are never shown out of turn.
FRAME_SECONDS = 0.05
PULL_SECONDS = 0.3
FRAMES_PER_PULL = round(PULL_SECONDS / FRAME_SECONDS)
REWIND_REQUESTS = 3  # Pause can take the engine back to a frame of the latest requests (Pair.rewind)


def digits(n_train: int = N_TRAIN, noise: float = 0.0, data_seed: int = 0) -> Dataset:
    return make_dataset("digits", n_train, noise, data_seed)


@dataclass(frozen=True)
class Spec:
    """What a run trains: a family's variant at drop probability p (ignored for "none")."""
    family: str
    variant: str
    p: float = 0.5
    mode: str = "inverted"
    block_size: int = 3

    @property
    def twin(self) -> Spec:
        return Spec(self.family, "none", 0.0, self.mode, self.block_size)


class VariantRun:
    def __init__(self, spec: Spec, seed: int, data: Dataset, lr: float = LR, batch_size: int = BATCH):
        self.spec, self.seed, self.data = spec, seed, data
        init, order, mask, probe = run_seeds(seed)
        self.net = build(spec.family, spec.variant, spec.p, spec.mode, torch.Generator().manual_seed(init),
                         spec.block_size)
        self.order = BatchOrder([order], len(data.y_train), min(batch_size, len(data.y_train)))
        self.rng = np.random.default_rng(mask)
        self.probe_seed = probe
        self.opt = torch.optim.Adam(self.net.parameters(), lr=lr)
        self.x, self.y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        self.x_test, self.y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
        self.step_count, self.train_loss = 0, float("nan")

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            idx = self.order.next()
            x, y = (self.x, self.y) if idx is None else (self.x[idx[0]], self.y[idx[0]])
            loss = F.cross_entropy(self.net(x, self.rng), y)
            self.opt.zero_grad(set_to_none=False)
            loss.backward()
            self.opt.step()
            self.train_loss = loss.item()
            self.step_count += 1

    def state(self) -> dict:
        """Everything that decides the run's next iterations: weights, Adam's moments, the batch order, the
        mask stream and the counter. `restore(state)` goes back to it, bit for bit."""
        # Adam's per-parameter tensors cloned, not the whole state_dict deep-copied: 20 times cheaper (measured)
        moments = {p: {name: v.clone() for name, v in st.items()} for p, st in self.opt.state.items()}
        return {"net": {k: v.clone() for k, v in self.net.state_dict().items()}, "opt": moments,
                "order": copy.deepcopy(self.order), "rng": copy.deepcopy(self.rng.bit_generator.state),
                "step": self.step_count, "loss": self.train_loss}

    def restore(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.state.clear()
        self.opt.state.update({p: {name: v.clone() for name, v in st.items()} for p, st in state["opt"].items()})
        self.order = copy.deepcopy(state["order"])
        self.rng.bit_generator.state = copy.deepcopy(state["rng"])
        self.step_count, self.train_loss = state["step"], state["loss"]

    @torch.no_grad()
    def evaluate(self) -> dict:
        """Test-time loss and accuracy on the test set (nothing dropped)."""
        logits = self.net(self.x_test)
        return {"test_acc": float((logits.argmax(1) == self.y_test).float().mean()),
                "test_loss": float(F.cross_entropy(logits, self.y_test))}

    @torch.no_grad()
    def evaluate_moments(self) -> dict:
        """DropConnect only: the test metrics of the paper's Gaussian moment-matching rule."""
        logits = self.net.moment_logits(self.x_test)
        return {"test_acc": float((logits.argmax(1) == self.y_test).float().mean()),
                "test_loss": float(F.cross_entropy(logits, self.y_test))}

    @torch.no_grad()
    def probe(self) -> tuple[list, list]:
        """The tracked digit in a training-mode pass with masks from the probe stream: what each site saw
        before dropout and its 0/1 mask (None where nothing is dropped)."""
        rng = np.random.default_rng([self.probe_seed, self.step_count, 1])
        _, seen = self.net(self.x[TRACKED:TRACKED + 1], rng, keep=True)
        return seen, [site.last for site in self.net.sites]


@dataclass(frozen=True)
class VariantFrame:
    """One iteration of a variant and its twin, for the figures (the Frame idea of the dense view)."""
    step: int
    spec: Spec
    train_loss: float
    test_loss: float
    test_acc: float
    twin_test_loss: float
    twin_test_acc: float
    x: np.ndarray              # the tracked digit (64,)
    seen: list     # per site, what it saw before dropout: conv (C, H, W); rnn inputs and state (steps, units)
    masks: list    # per site, its 0/1 mask of that shape (DropConnect: (in, out)); None: nothing dropped
    train_factor: float        # a survivor's factor in training (1/(1-p) or 1)
    test_factor: float         # every unit's factor at test time (1 or 1-p)
    levels: dict               # the first site's mean signal: computed, dropped, scaled (training), test
    moment_acc: float | None = None  # DropConnect: test accuracy with the paper's moment matching
    evaluated_at: int | None = None  # the iteration of the test numbers (None: this one's)


class Pair:
    """A variant and its p = 0 twin, stepped together; `history` holds (step, test_acc, test_loss,
    twin_test_acc, twin_test_loss) of every recorded frame."""

    def __init__(self, spec: Spec, seed: int = 0, data: Dataset | None = None):
        data = data or digits()
        self.spec = spec
        self.run, self.twin = VariantRun(spec, seed, data), VariantRun(spec.twin, seed, data)
        self.history: list[tuple] = []
        # a page's runs can overlap (a click's rerun starts while the last tick is still stepping): one at a time
        self._lock = threading.RLock()
        self._saved: dict[int, tuple] = {}  # step -> both runs' states, for the frames of the latest request
        self.frame = self._record()

    def step(self, n: int = 1) -> VariantFrame:
        with self._lock:
            self.run.step(n)
            self.twin.step(n)
            self.frame = self._record()
            self._saved = {}  # from here on, only forward
            return self.frame

    def pull(self, frames: int = FRAMES_PER_PULL, seconds: float = PULL_SECONDS) -> list[VariantFrame]:
        """`frames` frames of one iteration each, oldest first; fewer once `seconds` have passed (at least one),
        so a slow variant on a loaded machine is never far ahead of the screen. The test metrics, a pass over
        the whole test set for the variant and its twin (most of a conv frame's cost, measured), are computed
        for the last frame only; the frames before it show the latest ones, with the iteration they are from."""
        out, start = [], time.perf_counter()
        with self._lock:
            for i in range(frames):
                last = i == frames - 1 or time.perf_counter() - start >= seconds
                self.run.step(1)
                self.twin.step(1)
                self.frame = self._record(evaluate=last)
                self._saved[self.frame.step] = (self.run.state(), self.twin.state(), self.frame)
                out.append(self.frame)
                if last:
                    break
            # the browser may still be drawing the two requests before this one (see view.js): keep theirs too
            oldest = self.frame.step - REWIND_REQUESTS * frames
            self._saved = {step: saved for step, saved in self._saved.items() if step >= oldest}
        return out

    def rewind(self, step: int) -> bool:
        """Back to the frame of iteration `step`, one of the latest requests' (the browser was showing it when
        Pause was pressed, and had not drawn the later ones): as if the later iterations were never run. The
        frame gets its own test numbers. False (nothing changes) for any other step."""
        with self._lock:
            if step == self.frame.step:
                return True
            if step not in self._saved:
                return False
            run, twin, frame = self._saved[step]
            self.run.restore(run)
            self.twin.restore(twin)
            self.history = [row for row in self.history if row[0] <= step]
            self._saved = {}
            if frame.evaluated_at is None:
                self.frame = frame
            else:  # the same masks (the probe stream is seeded by the step), now with this iteration's numbers
                self.frame = self._record(evaluate=True)
            return True

    def snapshot(self) -> tuple[VariantFrame, list[tuple]]:
        """The latest frame and the history up to it, after any step in progress."""
        with self._lock:
            return self.frame, list(self.history)

    def _record(self, evaluate: bool = True) -> VariantFrame:
        """This iteration's frame; without `evaluate`, with the test numbers of the last frame that has them."""
        seen, masks = self.run.probe()
        squeeze = [s[0] if self.spec.family != "recurrent" else s[:, 0] for s in seen]
        if self.spec.family == "recurrent":
            seen = [self.run.x[TRACKED].view(8, 8), squeeze[0]]  # inputs per step, state per step
            masks = [None if m is None else m[:, 0] for m in masks]
        else:
            seen = squeeze
            masks = [None if m is None else m[0] for m in masks]
        f = self.run.net.sites[0].factors
        levels = self._levels(seen[0], masks[0], f)
        if evaluate:
            ev, tw = self.run.evaluate(), self.twin.evaluate()
            moment = self.run.evaluate_moments()["test_acc"] if self.spec.variant == "dropconnect" else None
            self.history.append((self.run.step_count, ev["test_acc"], ev["test_loss"], tw["test_acc"],
                                 tw["test_loss"]))
            numbers = dict(test_loss=ev["test_loss"], test_acc=ev["test_acc"], twin_test_loss=tw["test_loss"],
                           twin_test_acc=tw["test_acc"], moment_acc=moment)
        else:
            old = self.frame
            numbers = dict(test_loss=old.test_loss, test_acc=old.test_acc, twin_test_loss=old.twin_test_loss,
                           twin_test_acc=old.twin_test_acc, moment_acc=old.moment_acc,
                           evaluated_at=old.step if old.evaluated_at is None else old.evaluated_at)
        return VariantFrame(
            step=self.run.step_count, spec=self.spec, train_loss=self.run.train_loss,
            x=self.run.x[TRACKED].numpy().copy(),
            seen=[np.asarray(s) for s in seen], masks=[None if m is None else np.asarray(m) for m in masks],
            train_factor=f.train, test_factor=f.test, levels=levels, **numbers)

    def _levels(self, seen, mask, f) -> dict:
        """The mean of what the first site passes on for the tracked digit: everything (as computed), after
        dropping, after the survivors' training factor, and at test time (nothing dropped, test factor).
        For DropConnect the signal is what each edge carries, |pixel x weight|, with the mask on the edges."""
        if self.spec.variant == "dropconnect":
            full = self.run.x[TRACKED][:, None] * self.run.net.fc.weight.detach().T.abs()  # (in, out) edges
        else:
            full = torch.as_tensor(seen)
        kept = full if mask is None else full * mask
        return {"computed": float(full.mean()), "dropped": float(kept.mean()),
                "scaled": float(kept.mean() * f.train), "test": float(full.mean() * f.test)}
