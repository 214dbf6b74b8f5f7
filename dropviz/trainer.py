"""The training engine: trains an MLP with dropout and records what dropout did.

The network is the engine core (`model.Runs`) with one run, the core BatchedTrainer stacks many
runs in: the same initial weights, batch order, dropout masks, forward and backward pass and
update. So the same config and seed give the same losses here, in the CLI and in the experiments.

Randomness comes from four independent streams derived from `seed` (`model.run_seeds`): initial
weights, batch order, dropout masks, and probe passes. So two trainers with the same seed and
different p start from identical weights and see identical batches, and the same config
reproduces bit for bit.

Each example in a batch draws its own mask, as in PyTorch; a frame shows the mask of one
tracked training example. Its detail (masks, activations, gradients, output) is that of the
training pass itself, with the weights before that iteration's update (or, when the example is not
in the batch, of a probe pass with masks from the probe stream); the test-time metrics are taken
after the update. Step 0, the untrained network, is recorded when the Trainer is made.

Recording is cheap: the detail of the tracked example and the test-time metrics are computed
only for the last iteration of each `step(n)` call; with step(n, score=False) the test-time metrics are the
last scored frame's (the live view scores five frames a second), and `score()` scores the latest frame.

A Trainer can go back: `checkpoint()` keeps its state, and `rewind(checkpoint, step)` restores it and replays
the iterations up to `step`, bit for bit (the live view goes back to the frame on screen at Pause).

`history` holds the scalar metrics of every recorded frame in bounded memory (dropviz/history.py): the
most recent rows in full (history.RECENT), older ones thinned; the first row, the rows around each change of p and a
diverged row kept exact.

With twin=True the Trainer also trains the run's p = 0 twin (`twin_config`: same seed, so the same initial
weights and batches, and no dropout anywhere) stacked with it in one `Runs`: one batched pass trains both, and
one test-time pass scores both (the twin alone costs about as much again as the run). `trainer.twin` is the
twin's view: its config, its frames (scalar metrics only: `Scores`) and its history. Its numbers are those of a
Trainer of its own config, bit for bit (each run of a batched product is computed as if alone).

A non-finite loss (or non-finite metrics after an update) marks the run diverged: the weights
from before the bad update are restored (or, if even those score non-finite at test time, the
weights of the last good frame) and later `step()` calls change nothing.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from .config import FIELD, Config
from .data import Dataset, make_dataset
from .dropout import layer_multipliers
from .frame import Frame, LayerFrame
from .history import History, Row
from .model import MLP, Runs, blown_up, flush_denormals

TRACKED = 0  # the training example each frame follows


@dataclass(frozen=True)
class TrackedDetail:
    """The tracked example in one training pass, with the weights before that pass's update."""
    in_batch: bool       # False: not in this batch; a probe pass with its own masks
    x: torch.Tensor      # (n_inputs,) its input, before input dropout
    mults: list          # per layer (input, hidden...): its training multipliers (width,), or None
    pre: list            # per hidden layer: activations before dropout (width,)
    grad: list           # per hidden layer: d(its own loss)/d(pre); exactly 0 where dropped
    logits: torch.Tensor  # (n_classes,) of the thinned pass


def twin_config(cfg: Config) -> Config:
    """The comparison run: same everything, no dropout anywhere."""
    return cfg.replace(p=0.0, input_p=0.0)


@dataclass(frozen=True)
class Scores:
    """A twin's frame: the scalar metrics of one recorded iteration (the figures show no twin's detail)."""
    step: int
    p: float
    train_loss: float
    clean_train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    diverged: bool = False


@dataclass(frozen=True)
class Checkpoint:
    """A Trainer's state after one iteration, to go back to (Trainer.rewind)."""
    step: int
    cfg: Config
    runs: dict
    frame: Frame
    verified: list
    verified_step: int
    twin: tuple | None  # the twin's (frame, diverged)


class Twin:
    """The p = 0 twin a Trainer trains alongside its run (Trainer(twin=True)), read like a Trainer of its own."""
    RUN = 1  # its index in the Trainer's stacked runs

    def __init__(self, trainer: Trainer):
        self._trainer = trainer
        self.cfg = twin_config(trainer.cfg)
        self.history = History()
        self.diverged = False
        self.frame: Scores | None = None

    @property
    def step_count(self) -> int:
        return self.frame.step

    @property
    def opt(self) -> torch.optim.Optimizer:
        return self._trainer.opt

    @property
    def model(self) -> MLP:
        return self._trainer.runs.module(self.RUN)

    def keep(self, scores: Scores) -> None:
        """A finite frame (a twin that blows up only marks its last one: Trainer._twin_diverges)."""
        self.frame = scores
        self.history.append(Row.of(scores))


class Trainer:
    def __init__(self, cfg: Config, data: Dataset | None = None, twin: bool = False):
        self.cfg = cfg
        self.data = data or make_dataset(cfg.dataset, cfg.n_train, cfg.noise, cfg.data_seed)
        if self.data.regression:  # its frames, figures and captions are about classes
            raise ValueError("the live view trains classifiers: a regression set is for the uncertainty view "
                             "(BatchedTrainer)")
        self.twin = Twin(self) if twin else None
        self.runs = Runs([cfg] + ([self.twin.cfg] if twin else []), self.data)
        self.params = self.runs.params
        d = self.data
        self._x, self._y = self.runs.x, self.runs.y
        self._x_eval = torch.cat([self._x, torch.from_numpy(d.x_test)])  # one test-time pass scores both sets
        self._y_eval = torch.cat([self._y, torch.from_numpy(d.y_test)])
        self._snapshot = [p.detach().clone() for p in self.params]  # weights before the latest update
        self._verified = [p.detach().clone() for p in self.params]  # weights of the latest finite frame
        self._verified_step = 0
        self._lock = threading.RLock()  # a session's overlapping reruns must not update in place together
        self.step_count = 0
        self.diverged = False
        self.history = History()  # scalar metrics of the recorded frames: recent ones in full, older ones thinned
        self._twin_scores: Scores | None = None  # the twin's, recorded with the latest frame
        self._train_losses: np.ndarray | None = None  # each run's batch loss in the latest iteration
        self._frame: Frame | None = None
        self._frame = self._record()
        self._keep(self._frame)

    # ----------------------------------------------------------------- settings
    @property
    def batch_size(self) -> int:
        return self.runs.batch_size

    @property
    def opt(self) -> torch.optim.Optimizer:
        return self.runs.opt

    @property
    def model(self) -> MLP:
        """The network as an nn.Module; its parameters are views of the current weights."""
        return self.runs.module(0)

    @property
    def _run(self) -> list[int] | None:
        """`models` for a pass of the run alone: None when it is the only one."""
        return None if self.twin is None else [0]

    def set_p(self, p: float) -> None:
        """Change the drop probability from the next iteration; weights and optimizer state are kept."""
        self.update(p=p)

    def update(self, **changes) -> None:
        """Change live settings (p, input_p, lr) without a new run. Raises ValueError otherwise."""
        for name in changes:
            if name not in FIELD or not FIELD[name].live:
                raise ValueError(f"{name} cannot change during a run; start a new Trainer")
        with self._lock:
            self.cfg = self.cfg.replace(**changes)
            if self.twin is not None:
                self.twin.cfg = twin_config(self.cfg)  # the learning rate is shared; p and input_p stay 0
            self.runs.configure([self.cfg] + ([self.twin.cfg] if self.twin else []))

    # ----------------------------------------------------------------- training
    @property
    def frame(self) -> Frame:
        """The latest frame (at step 0, the untrained network)."""
        return self._frame

    def step(self, n: int = 1, score: bool = True) -> Frame:
        """Run n training iterations and return the Frame of the last one.

        score=False: the frame's test-time numbers are the last scored frame's (its `scored_at` says which), and it
        adds no history row: the pass over the training and test sets is most of a frame's cost, and a live view
        playing 25 frames a second needs it a few times a second (score() scores the latest frame later)."""
        if n < 1:
            raise ValueError(f"n={n} is out of range: expected an integer of at least 1")
        with self._lock, flush_denormals():
            for i in range(n):
                if self.diverged:
                    break
                self._iterate(record=(i == n - 1), score=score)
            return self._frame

    def score(self) -> Frame:
        """The latest frame, with test-time numbers of its own iteration (a frame recorded with score=False has
        the last scored frame's): its history row and its twin's are kept now."""
        with self._lock, flush_denormals():
            frame = self._frame
            if frame.scored_at is None:
                return frame
            own, _, _ = self._test_pass(self._train_losses)
            scored = replace(frame, clean_train_loss=own[0], test_loss=own[1], train_acc=own[2], test_acc=own[3],
                             scored_at=None)
            self._keep_finite(scored)
            return self._frame

    def _iterate(self, record: bool, score: bool = True):
        losses = self.runs.train_forward(tap=(0, TRACKED) if record else None)
        self._train_losses = losses
        loss = float(losses[0])
        if blown_up(loss):
            self._diverge(f"its training loss {_size(loss)}")
            return
        twin = self.twin
        if twin is not None and not twin.diverged and blown_up(losses[Twin.RUN]):
            self._twin_diverges()
        with torch.no_grad():
            torch._foreach_copy_(self._snapshot, self.params)
        # the detail shows the weights this batch was trained with: a probe pass runs before the update
        probe = self._probe_detail() if record and not self.runs.tapping else None
        self.runs.train_backward(dead=self._dead)
        self.step_count += 1
        if record:
            self._keep_finite(self._record(detail=probe or self._batch_detail(), train_losses=losses, score=score))

    def _keep_finite(self, frame: Frame) -> None:
        """Keep the frame of the latest update, unless the update broke the weights (then the run diverges)."""
        problem = _non_finite(frame)
        if problem:  # without this the chart would get a NaN
            self.step_count -= 1  # the weights go back to the iteration before: so does the counter
            self._diverge(f"after its update {problem}")
        else:
            self._keep(frame)

    @property
    def _dead(self) -> np.ndarray | None:
        """Runs that get no update: a diverged twin (its curve ends where it blew up; the run goes on)."""
        return np.array([False, True]) if self.twin is not None and self.twin.diverged else None

    def _twin_diverges(self) -> None:
        """The twin's training loss blew up: its curve ends at its last frame, marked; the run goes on."""
        twin = self.twin
        twin.diverged = True
        twin.frame = replace(twin.frame, diverged=True)

    def _diverge(self, what: str):
        """Stop the run at the iteration the counter shows (`step_count`): the next one failed, as `what` says."""
        with torch.no_grad():
            torch._foreach_copy_(self.params, self._snapshot)  # the weights from before the bad update
        self.diverged = True
        opt = self.cfg.optimizer
        hint = (f"lower the learning rate (now {self.cfg.lr:g})" +
                (" or switch the optimizer to adam" if opt == "sgd" else ""))
        shown = self.step_count

        def message(kept: str) -> str:
            return (f"Training diverged after iteration {shown}: in iteration {shown + 1} {what}. {kept}. "
                    f"To continue, {hint}, then start a new run.")

        frame = self._record(diverged=True, message=message(f"The weights of iteration {shown} are kept"))
        if _non_finite(frame):  # even those are too far gone at test time: go back to the last good frame
            with torch.no_grad():
                torch._foreach_copy_(self.params, self._verified)
            frame = self._record(diverged=True, message=message(
                f"The weights of iteration {self._verified_step}, the last with finite losses, are kept"))
        self._keep(frame)

    # ----------------------------------------------------------------- going back
    def checkpoint(self) -> Checkpoint:
        """The state now, for `rewind` to go back to (a copy of the weights and the optimizer's moments)."""
        with self._lock:
            twin = None if self.twin is None else (self.twin.frame, self.twin.diverged)
            return Checkpoint(self.step_count, self.cfg, self.runs.state(), self._frame,
                              [p.clone() for p in self._verified], self._verified_step, twin)

    def rewind(self, checkpoint: Checkpoint, step: int) -> Frame:
        """Back to iteration `step` (from the checkpoint's iteration to the current one), as if the later
        iterations had never run: the checkpoint's state, then its iterations up to `step` again, which give the
        same weights, frame and history rows bit for bit (training is reproducible and recording only reads). The
        settings are the checkpoint's (a live change since then is the caller's to apply again)."""
        with self._lock:
            if not checkpoint.step <= step <= self.step_count:
                raise ValueError(f"step={step} is out of range: expected {checkpoint.step} to {self.step_count}")
            if checkpoint.cfg != self.cfg:
                self.update(**{name: getattr(checkpoint.cfg, name) for name in FIELD if FIELD[name].live})
            self.runs.restore(checkpoint.runs)
            with torch.no_grad():
                torch._foreach_copy_(self._verified, checkpoint.verified)
            self.step_count, self._frame = checkpoint.step, checkpoint.frame
            self._verified_step = checkpoint.verified_step
            self.diverged = checkpoint.frame.diverged
            kept = step if step == checkpoint.step else step - 1  # the row of `step` itself is recorded again
            self.history.drop_after(kept)
            if self.twin is not None:
                self.twin.frame, self.twin.diverged = checkpoint.twin
                self.twin.history.drop_after(kept)
            if step > checkpoint.step:
                self.step(step - checkpoint.step)
            return self._frame

    # ----------------------------------------------------------------- recording
    def _batch_detail(self) -> TrackedDetail:
        """The tracked example's detail as the latest training pass computed it (it was in the batch)."""
        batch, tapped = self.runs.batch, self.runs.tapped
        return TrackedDetail(in_batch=True, x=batch.x[0, tapped.row],
                             mults=[None if m is None else m[0, tapped.row] for m in batch.mults],
                             pre=tapped.pre, grad=tapped.grad, logits=tapped.logits)

    def _probe_detail(self) -> TrackedDetail:
        """The tracked example alone, with the current weights and masks from the probe stream (so
        the training streams are untouched): for frames whose batch does not hold it."""
        x, mults = self._x[TRACKED], self.runs.probe_multipliers(0, self.step_count)
        with torch.enable_grad():  # its own loss, backpropagated to each hidden layer
            logits, pres = self.runs.forward(x[None], mults, keep=True, models=self._run)
            grads = torch.autograd.grad(F.cross_entropy(logits[0], self._y[TRACKED:TRACKED + 1]), pres)
        return TrackedDetail(in_batch=False, x=x, mults=mults, pre=[h[0, 0].detach() for h in pres],
                             grad=[g[0, 0] for g in grads], logits=logits[0, 0].detach())

    def _record(self, *, detail: TrackedDetail | None = None, train_losses: np.ndarray | None = None,
                diverged: bool = False, message: str = "", score: bool = True) -> Frame:
        """The frame of the current weights (and the twin's Scores, kept with it). detail: the tracked
        example's, else a probe pass's; train_losses: each run's batch loss, else (no iteration yet, or
        diverged) the clean training loss. score=False: the test-time numbers are the last scored frame's, and
        the test-time pass is the tracked example's alone."""
        cfg = self.cfg
        factors = layer_multipliers(cfg.input_p, cfg.p, cfg.depth, cfg.mode)  # input, hidden...
        if detail is None:
            detail = self._probe_detail()
        last, scored_at = self._frame, None
        if score or last is None or diverged:
            (clean_train_loss, test_loss, train_acc, test_acc), test_output, test_pre = self._test_pass(
                train_losses, diverged)
        else:
            with torch.inference_mode():  # every run's (the run is the first): cheaper than picking it out
                logits, pres = self.runs.forward(self._x[TRACKED:TRACKED + 1], self.runs.masks.test(), keep=True)
                test_output = torch.softmax(logits[0, 0], 0).numpy()
                test_pre = torch.stack([h[0, 0] for h in pres]).numpy()
            clean_train_loss, test_loss, train_acc, test_acc = (
                last.clean_train_loss, last.test_loss, last.train_acc, last.test_acc)
            scored_at = last.step if last.scored_at is None else last.scored_at
        train_loss = clean_train_loss if train_losses is None else float(train_losses[0])
        with torch.no_grad():  # every layer at once: (depth, width) arrays, one conversion each
            pre = torch.stack(detail.pre).numpy()
            grad = torch.stack(detail.grad).numpy()
            hidden = detail.mults[1:]
            keep = np.ones(pre.shape, bool) if hidden[0] is None else torch.stack(hidden).ne(0).numpy()
        layers = []
        for l, f in enumerate(factors[1:]):
            layers.append(LayerFrame(
                mask=keep[l], pre=pre[l], post=pre[l] * keep[l] * np.float32(f.train), scale=f.train,
                grad=grad[l], p=cfg.p, test_pre=test_pre[l], test_post=test_pre[l] * np.float32(f.test),
                test_scale=f.test))
        return Frame(
            step=self.step_count, p=cfg.p, input_p=cfg.input_p, mode=cfg.mode, lr=cfg.lr,
            train_loss=float(train_loss), test_loss=test_loss, train_acc=train_acc, test_acc=test_acc,
            clean_train_loss=clean_train_loss, diverged=bool(diverged or self.diverged),
            layers=layers, tracked_index=TRACKED, tracked_in_batch=detail.in_batch,
            x=detail.x.numpy().copy(), y=int(self._y[TRACKED]),
            output=torch.softmax(detail.logits, 0).numpy(), test_output=test_output,
            input_mask=None if detail.mults[0] is None else (detail.mults[0] != 0).numpy(),
            input_scale=factors[0].train, message=message, scored_at=scored_at)

    def _test_pass(self, train_losses: np.ndarray | None, diverged: bool = False):
        """One test-time pass over the training and test sets together, of every run: the run's clean training
        loss, test loss, training and test accuracy, and its tracked example's test-time output and activations;
        the twin's Scores are kept for _keep."""
        twin = self.twin if self.twin is not None and not self.twin.diverged and not diverged else None
        with torch.inference_mode():
            models = None if twin else self._run
            eval_logits, eval_pres = self.runs.forward(self._x_eval, self.runs.masks.test(models), keep=True,
                                                       models=models)
            own = self._scores(eval_logits[0])
            test_output = torch.softmax(eval_logits[0, TRACKED], 0).numpy()
            test_pre = torch.stack([h[0, TRACKED] for h in eval_pres]).numpy()
            if twin is not None:
                scores = self._scores(eval_logits[Twin.RUN])
                loss = scores[0] if train_losses is None else float(train_losses[Twin.RUN])
                self._twin_scores = Scores(self.step_count, 0.0, loss, *scores)
        return own, test_output, test_pre

    def _scores(self, logits: torch.Tensor) -> list[float]:
        """One run's clean training loss, test loss, training and test accuracy from its test-time logits over
        the training and test sets (the same operations for every run: a twin's scores are its own Trainer's)."""
        n = len(self._y)
        losses = F.cross_entropy(logits, self._y_eval, reduction="none")
        right = (logits.argmax(1) == self._y_eval).float()
        return torch.stack([losses[:n].mean(), losses[n:].mean(), right[:n].mean(), right[n:].mean()]).tolist()

    def _keep(self, frame: Frame) -> None:
        self._frame = frame
        if not frame.diverged:
            with torch.no_grad():
                torch._foreach_copy_(self._verified, self.params)
            self._verified_step = frame.step
        if frame.scored_at is not None:
            return  # its test-time numbers are an earlier frame's: no row, and the twin's Scores stay
        self.history.append(Row.of(frame), pin=frame.diverged)  # the divergence stays on the chart
        twin = self.twin
        if twin is not None and not twin.diverged and not frame.diverged:
            scores = self._twin_scores
            if blown_up(scores.clean_train_loss) or blown_up(scores.test_loss):
                self._twin_diverges()
            else:
                twin.keep(scores)

    # ----------------------------------------------------------------- prediction
    @torch.no_grad()
    def predict(self, x, samples: int = 0, seed: int = 0):
        """Class probabilities at test time (no dropout).

        With samples=T > 0, Monte-Carlo dropout: T stochastic passes with fresh masks (from their own
        stream, so training is unaffected; the same as BatchedTrainer.mc_probs for this seed);
        returns (mean, std) of the probabilities over the passes.
        """
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        with self._lock:
            if samples <= 0:
                logits, _ = self.runs.forward(x, self.runs.masks.test(self._run), models=self._run)
                return torch.softmax(logits[0], 1).numpy()
            stack = self.runs.mc_probs(x, samples, seed, models=self._run)[:, 0]
            return stack.mean(0).numpy(), stack.std(0, correction=0).numpy()


def _non_finite(frame: Frame) -> str:
    """What in the frame has blown up (NaN, infinite, or a loss past LOSS_LIMIT), or "" when nothing has."""
    for name in ("train_loss", "clean_train_loss", "test_loss"):
        if blown_up(getattr(frame, name)):
            return f"the {name.replace('_', ' ')} {_size(getattr(frame, name))}"
    arrays = [frame.output, frame.test_output] + [a for l in frame.layers for a in (l.pre, l.grad, l.test_pre)]
    if not all(np.isfinite(a).all() for a in arrays):
        return "the activations became infinite"
    return ""


def _size(value: float) -> str:
    """A blown-up loss in words a class can read: 'became infinite', 'grew to about 10^30'."""
    if math.isnan(value):
        return "became undefined (NaN)"
    if math.isinf(value):
        return "became infinite"
    return f"grew to about 10^{math.floor(math.log10(abs(value)))}"
