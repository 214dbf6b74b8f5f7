"""The training engine: trains an MLP with dropout and records what dropout did.

Randomness comes from three independent streams derived from `seed`:
initial weights, batch order, and dropout masks. So two trainers with the same seed and
different p start from identical weights and see identical batches, and the same config
reproduces bit for bit.

Each example in a batch draws its own mask, as in PyTorch; a frame shows the mask of one
tracked training example. Its detail (masks, activations, gradients, output) is taken from the
training pass itself, before that iteration's update; the test-time metrics after the update.

Recording is cheap: the detail of the tracked example and the test-time metrics are computed
only for the last iteration of each `step(n)` call.

A non-finite loss (or non-finite metrics after an update) marks the run diverged: the weights
from before the bad update are restored (or, if even those score non-finite at test time, the
weights of the last good frame) and later `step()` calls change nothing.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F

from .config import FIELD, Config
from .data import Dataset, make_dataset
from .frame import Frame, LayerFrame
from .model import MLP, draw_masks, run_seeds, test_multipliers, train_multipliers

TRACKED = 0  # the training example each frame follows


def _make_optimizer(name, params, lr):
    # foreach: one kernel per operation for all parameters; PyTorch only picks it by itself on GPU
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, foreach=True)
    return torch.optim.Adam(params, lr=lr, foreach=True)


class Trainer:
    def __init__(self, cfg: Config, data: Dataset | None = None):
        self.cfg = cfg
        self.data = data or make_dataset(cfg.dataset, cfg.n_train, cfg.noise, cfg.data_seed)
        init_seed, order_seed, mask_seed, probe_seed = run_seeds(cfg.seed)
        d = self.data
        self.model = MLP.for_run(cfg, d, init_seed)
        self.params = list(self.model.parameters())
        self.opt = _make_optimizer(cfg.optimizer, self.params, cfg.lr)
        self._order_rng = np.random.default_rng(order_seed)
        self._mask_gen = torch.Generator().manual_seed(mask_seed)
        self._probe_seed = probe_seed
        self._x, self._y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
        self._xs, self._ys = torch.from_numpy(d.x_test), torch.from_numpy(d.y_test)
        self._x_eval = torch.cat([self._x, self._xs])  # one test-time pass scores both sets
        self._y_eval = torch.cat([self._y, self._ys])
        self._queue = np.empty(0, dtype=np.int64)
        self._snapshot = [p.detach().clone() for p in self.params]  # weights before the latest update
        self._verified = [p.detach().clone() for p in self.params]  # weights of the latest finite frame
        self._verified_step = 0
        self._lock = threading.RLock()  # a session's overlapping reruns must not update in place together
        self.step_count = 0
        self.diverged = False
        self.history: list[dict] = []  # scalar metrics of every recorded frame
        self._frame: Frame | None = None

    # ----------------------------------------------------------------- settings
    @property
    def batch_size(self) -> int:
        return min(self.cfg.batch_size, len(self._y))

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
            for group in self.opt.param_groups:
                group["lr"] = self.cfg.lr

    # ----------------------------------------------------------------- training
    @property
    def frame(self) -> Frame:
        """The latest frame (at step 0, the untrained network)."""
        with self._lock:
            if self._frame is None:
                self._record(None, None, None, None)
            return self._frame

    def step(self, n: int = 1) -> Frame:
        """Run n training iterations and return the Frame of the last one."""
        if n < 1:
            raise ValueError(f"n={n} is out of range: expected an integer of at least 1")
        with self._lock:
            for i in range(n):
                if self.diverged:
                    break
                self._iterate(record=(i == n - 1))
            return self.frame

    def _next_batch(self):
        n, b = len(self._y), self.batch_size
        if b == n:
            return None  # full batch, in data order
        if len(self._queue) < b:
            self._queue = np.concatenate([self._queue, self._order_rng.permutation(n)])
        idx, self._queue = self._queue[:b], self._queue[b:]
        return idx

    def _ps(self):
        return [self.cfg.input_p] + [self.cfg.p] * self.cfg.depth

    def _train_multipliers(self, batch: int, gen: torch.Generator):
        ps = self._ps()
        shapes = [(batch, self._x.shape[1])] + [(batch, self.cfg.width)] * self.cfg.depth
        return train_multipliers(draw_masks(shapes, ps, gen), ps, self.cfg.mode)

    def _iterate(self, record: bool):
        idx = self._next_batch()
        x, y = (self._x, self._y) if idx is None else (self._x[idx], self._y[idx])
        mult = self._train_multipliers(len(y), self._mask_gen)
        logits, pres = self.model(x, mult, keep_pre=record)
        if record:
            for h in pres:
                h.retain_grad()
        loss = F.cross_entropy(logits, y)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            self._diverge(f"the training loss became {loss_value}", self.step_count + 1)
            return
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            torch._foreach_copy_(self._snapshot, self.params)
        # before the update: the detail shows the weights this batch was trained with
        detail = self._tracked_detail((idx, x, mult, pres, logits)) if record else None
        self.opt.step()
        self.step_count += 1
        if record:
            frame = self._record(detail, loss_value, None, None, store=False)
            problem = _non_finite(frame)
            if problem:  # the update itself broke the weights; without this the chart would get a NaN
                self._diverge(problem, self.step_count)
            else:
                self._keep(frame)

    def _diverge(self, what: str, iteration: int):
        with torch.no_grad():
            torch._foreach_copy_(self.params, self._snapshot)  # the weights from before the bad update
        self.diverged = True
        opt = self.cfg.optimizer
        hint = (f"lower the learning rate (now {self.cfg.lr:g})" +
                (" or switch the optimizer to adam" if opt == "sgd" else ""))
        kept = "The weights from before that update are kept"
        frame = self._record(None, None, True, "", store=False)
        if _non_finite(frame):  # even those are too far gone at test time: go back to the last good frame
            with torch.no_grad():
                torch._foreach_copy_(self.params, self._verified)
            kept = f"The weights of iteration {self._verified_step}, the last with finite losses, are kept"
            frame = self._record(None, None, True, "", store=False)
        frame.message = (f"Training diverged at iteration {iteration}: {what}. {kept}. "
                         f"To continue, {hint}, then start a new run.")
        self._keep(frame)

    # ----------------------------------------------------------------- recording
    def _tracked_detail(self, batch):
        """Masks, activations and gradients of the tracked example for this iteration.

        If it is in the batch, read them off the batch (its loss gradient is B times its share of
        the mean batch loss's). Otherwise run it alone with masks from a separate probe stream,
        so the training streams are untouched.
        """
        if batch is not None:
            idx, x, mult, pres, logits = batch
            rows = [TRACKED] if idx is None else np.flatnonzero(idx == TRACKED)
            if len(rows):
                r, b = int(rows[0]), len(x)
                return True, x[r], [None if m is None else m[r] for m in mult], \
                    [h[r].detach() for h in pres], [h.grad[r] * b for h in pres], logits[r].detach()
        gen = torch.Generator().manual_seed(self._probe_seed + self.step_count)
        x = self._x[TRACKED:TRACKED + 1]
        mult = self._train_multipliers(1, gen)
        with torch.enable_grad():
            logits, pres = self.model(x, mult, keep_pre=True)
            grads = torch.autograd.grad(F.cross_entropy(logits, self._y[TRACKED:TRACKED + 1]), pres)
        return False, x[0], [None if m is None else m[0] for m in mult], \
            [h[0].detach() for h in pres], [g[0] for g in grads], logits[0].detach()

    def _record(self, detail, train_loss, diverged, message, store: bool = True) -> Frame:
        cfg, ps = self.cfg, self._ps()
        if detail is None:
            detail = self._tracked_detail(None)
        in_batch, x, mult, pres, grads, out_logits = detail
        n, tmult = len(self._y), test_multipliers(ps, cfg.mode)
        with torch.inference_mode():  # one test-time pass over training and test sets together
            eval_logits, eval_pres = self.model(self._x_eval, tmult, keep_pre=True)
            losses = F.cross_entropy(eval_logits, self._y_eval, reduction="none")
            right = (eval_logits.argmax(1) == self._y_eval).float()
            clean_train_loss, test_loss, train_acc, test_acc = torch.stack(
                [losses[:n].mean(), losses[n:].mean(), right[:n].mean(), right[n:].mean()]).tolist()
            test_output = torch.softmax(eval_logits[TRACKED], 0).numpy()
            test_pre = torch.stack([h[TRACKED] for h in eval_pres]).numpy()
        if train_loss is None:
            train_loss = clean_train_loss
        with torch.no_grad():  # every layer at once: (depth, width) arrays, one conversion each
            pre = torch.stack(pres).numpy()
            grad = torch.stack([g.detach() for g in grads]).numpy()
            keep = np.ones(pre.shape, bool) if mult[1] is None else torch.stack(mult[1:]).ne(0).numpy()
        scale = 1.0 / (1.0 - cfg.p) if cfg.mode == "inverted" else 1.0
        test_scale = 1.0 if tmult[1] is None else float(tmult[1])
        post = pre * keep * np.float32(scale)
        test_post = test_pre * np.float32(test_scale)
        layers = [LayerFrame(mask=keep[l], pre=pre[l], post=post[l], scale=scale, grad=grad[l], p=cfg.p,
                             test_pre=test_pre[l], test_post=test_post[l], test_scale=test_scale)
                  for l in range(cfg.depth)]
        frame = Frame(
            step=self.step_count, p=cfg.p, input_p=cfg.input_p, mode=cfg.mode, lr=cfg.lr,
            train_loss=float(train_loss), test_loss=test_loss, train_acc=train_acc, test_acc=test_acc,
            clean_train_loss=clean_train_loss, diverged=bool(diverged or self.diverged),
            layers=layers, tracked_index=TRACKED, tracked_in_batch=in_batch,
            x=x.numpy().copy(), y=int(self._y[TRACKED]),
            output=torch.softmax(out_logits.detach(), 0).numpy(), test_output=test_output,
            input_mask=None if cfg.input_p == 0 else (mult[0] != 0).numpy(),
            input_scale=1.0 / (1.0 - cfg.input_p) if cfg.mode == "inverted" else 1.0,
            message=message or "")
        if store:
            self._keep(frame)
        return frame

    def _keep(self, frame: Frame) -> None:
        self._frame = frame
        if not frame.diverged:
            with torch.no_grad():
                torch._foreach_copy_(self._verified, self.params)
            self._verified_step = frame.step
        self.history.append({k: getattr(frame, k) for k in (
            "step", "p", "train_loss", "clean_train_loss", "test_loss", "train_acc", "test_acc")})

    # ----------------------------------------------------------------- prediction
    @torch.no_grad()
    def predict(self, x, samples: int = 0, seed: int = 0):
        """Class probabilities at test time (no dropout).

        With samples=T > 0, Monte-Carlo dropout: T stochastic passes with fresh masks (from their own
        stream, so training is unaffected); returns (mean, std) of the probabilities over the passes.
        """
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        ps = self._ps()
        with self._lock:
            if samples <= 0:
                logits, _ = self.model(x, test_multipliers(ps, self.cfg.mode))
                return torch.softmax(logits, 1).numpy()
            gen = torch.Generator().manual_seed(self._probe_seed ^ (seed + 1) * 7919)
            runs = []
            for _ in range(samples):
                mult = self._train_multipliers(len(x), gen)
                runs.append(torch.softmax(self.model(x, mult)[0], 1))
            stack = torch.stack(runs)
            return stack.mean(0).numpy(), stack.std(0, correction=0).numpy()


def _non_finite(frame: Frame) -> str:
    """What in the frame is not finite (NaN or infinite), or "" when everything is."""
    for name in ("train_loss", "clean_train_loss", "test_loss"):
        if not math.isfinite(getattr(frame, name)):
            return f"the {name.replace('_', ' ')} became {getattr(frame, name)}"
    arrays = [frame.output, frame.test_output] + [a for l in frame.layers for a in (l.pre, l.grad, l.test_pre)]
    if not all(np.isfinite(a).all() for a in arrays):
        return "the activations became infinite"
    return ""
