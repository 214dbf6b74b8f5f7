"""Train many dropout networks at once: same architecture and data, different p, mode and seed.

The M models' weights are stacked, (M, in, out) per layer, and every layer is one batched matrix
product, so an experiment's 30 networks cost little more than one. Per model it is the same
computation as `Trainer`:

- the same initial weights (each model's MLP is built from its own seed, then stacked),
- the same batch order (its own order stream, same queue logic),
- its own dropout masks, one per example and hidden neuron, from its own mask stream
  (numpy, not Trainer's torch stream: same distribution, not the same draws),
- Adam and SGD are elementwise, so one optimizer over the stacked tensors updates each model
  exactly as its own optimizer would. Plain SGD is folded into the weight-gradient product
  (w += -lr * h^T g in one GEMM call: the same update, rounded once instead of twice).

One iteration costs about three batched 256 x 256 products per model (forward, gradient into the
layer below, weight gradient); everything else is written to avoid allocation and bool tensors,
whose CPU kernels are several times slower than float ones.

With p = 0 a model's losses match Trainer's to float rounding.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .config import FIELDS, Config
from .data import Dataset, make_dataset
from .model import ACTIVATIONS, MLP, run_seeds

_BIG = 2.0**64
PER_MODEL = ("p", "input_p", "mode", "seed")  # the settings that may differ between the models
SHARED = tuple(f.name for f in FIELDS if f.name not in PER_MODEL)


def shared_key(cfg: Config) -> tuple:
    """Configs with equal keys can be trained together in one BatchedTrainer."""
    return tuple(getattr(cfg, name) for name in SHARED)


class BatchedTrainer:
    def __init__(self, cfgs: Sequence[Config], data: Dataset | None = None):
        self.cfgs = list(cfgs)
        if not self.cfgs:
            raise ValueError("BatchedTrainer needs at least one config")
        base = self.cfgs[0]
        for cfg in self.cfgs[1:]:
            for name in SHARED:
                if getattr(cfg, name) != getattr(base, name):
                    raise ValueError(f"{name} differs between the models ({getattr(cfg, name)!r} vs "
                                     f"{getattr(base, name)!r}); only {', '.join(PER_MODEL)} may differ")
        self.base = base
        self.data = d = data or make_dataset(base.dataset, base.n_train, base.noise, base.data_seed)
        self.n_models = m = len(self.cfgs)
        self.act = ACTIVATIONS[base.activation]

        streams = [run_seeds(c.seed) for c in self.cfgs]
        nets = [MLP.for_run(base, d, s[0]) for s in streams]
        layers = [[*net.hidden, net.out] for net in nets]
        # stored as nn.Linear does, (M, out, in), and shown as (M, in, out): the batched products then
        # read each operand in a layout MKL handles fast (the 2-column output layer is 6x slower otherwise)
        self.weights = [torch.stack([net_layers[i].weight.detach() for net_layers in layers])
                        .transpose(1, 2).requires_grad_() for i in range(base.depth + 1)]
        self._weights_t = [w.detach().transpose(1, 2) for w in self.weights]  # (M, out, in), contiguous
        self.biases = [torch.stack([net_layers[i].bias.detach()[None] for net_layers in layers])
                       .contiguous().requires_grad_() for i in range(base.depth + 1)]
        params = [t for pair in zip(self.weights, self.biases) for t in pair]
        if base.optimizer == "sgd":
            self.opt = torch.optim.SGD(params, lr=base.lr)
        else:
            self.opt = torch.optim.Adam(params, lr=base.lr, fused=True)

        self._order_rngs = [np.random.default_rng(s[1]) for s in streams]
        self._mask_rngs = [np.random.default_rng(s[2]) for s in streams]
        self._probe_seeds = [s[3] for s in streams]
        self._queues = [np.empty(0, dtype=np.int64) for _ in range(m)]

        # per model and layer (input, hidden 1..depth): drop probability and the two scales
        self.ps = np.array([[c.input_p] + [c.p] * base.depth for c in self.cfgs], dtype=np.float64)
        inverted = np.array([c.mode == "inverted" for c in self.cfgs])[:, None]
        train_scale = np.where(inverted, 1.0 / (1.0 - self.ps), 1.0)
        test_scale = np.where(inverted, 1.0, 1.0 - self.ps)
        col = lambda a, l: torch.tensor(a[:, l], dtype=torch.float32).view(m, 1, 1)
        self._train_scale = [col(train_scale, l) for l in range(base.depth + 1)]
        self._test_mult = [None if np.all(test_scale[:, l] == 1.0) else col(test_scale, l)
                           for l in range(base.depth + 1)]
        self._p = [col(self.ps, l) for l in range(base.depth + 1)]
        # keep <=> u > p <=> u * 2^64 - p * 2^64 > 0 (u uniform on [0, 1)): float ops only (exact: powers of
        # two, and a rounded sum keeps its sign); a kept u is >= 2^-48 above p, so clamp(.., 0, 1) is 0 or 1
        self._minus_p_big = [-t * _BIG for t in self._p]
        self._sgd_lr = base.lr if base.optimizer == "sgd" else None
        self._work: dict[int, dict] = {}

        self._x, self._y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
        self._xs, self._ys = torch.from_numpy(d.x_test), torch.from_numpy(d.y_test)
        self.step_count = 0
        self.diverged = np.zeros(m, dtype=bool)
        self.diverged_at = np.full(m, -1)

    # ------------------------------------------------------------------ forward
    @property
    def batch_size(self) -> int:
        return min(self.base.batch_size, len(self._y))

    def _forward(self, x, mults, keep: bool = False):
        """Logits (M, N, C) and, if keep, each hidden layer's activations before its multiplier.

        x is (N, in), shared by all models, or (M, N, in); mults has one entry per layer
        (input, hidden...): None, or a tensor broadcastable to (M, N, width).
        """
        if mults[0] is not None:
            x = x * mults[0]
        acts = []
        h = x
        for w, b, mult in zip(self.weights, self.biases, mults[1:]):
            h = self.act(self._linear(h, w, b))
            if keep:
                acts.append(h)
            if mult is not None:
                h = h * mult
        return self._linear(h, self.weights[-1], self.biases[-1]), acts

    def _draw_uniforms(self, rngs, rows: int, models, out=None):
        """Per layer (input, hidden...): float32 uniforms u in [0, 1), (M', rows, width), one per
        example and neuron, each model's from its own stream; None where no model drops anything.
        A model with p = 0 draws nothing and gets u = 1, which keeps every neuron."""
        widths = [self.data.n_inputs] + [self.base.width] * self.base.depth
        us = []
        for l, width in enumerate(widths):
            if not np.any(self.ps[models, l] > 0):
                us.append(None)
                continue
            u = np.ones((len(models), rows, width), dtype=np.float32) if out is None else out[l]
            for i, mi in enumerate(models):
                if self.ps[mi, l] > 0:
                    rngs[mi].random(out=u[i], dtype=np.float32)
            us.append(u)
        return us

    def _draw_keeps(self, rngs, rows: int, only=None):
        """Per layer (input, hidden...): a bool keep mask (M', rows, width), or None where no model
        drops anything. Keep when u > p, so P(keep) = 1 - p to within 2^-24. The same draws and
        rule as training's multipliers (`_train_mults`)."""
        models = list(range(self.n_models)) if only is None else list(only)
        keeps = []
        for l, u in enumerate(self._draw_uniforms(rngs, rows, models)):
            if u is None:
                keeps.append(None)
                continue
            u = torch.from_numpy(u)
            keeps.append(u > self._p[l][models])
        return keeps

    def _workspace(self, rows: int) -> dict:
        """Preallocated tensors of one iteration with `rows` examples per model: no allocation
        (a fresh multi-MB tensor costs page faults) and the same memory every time (cache)."""
        work = self._work.get(rows)
        if work is None:
            m, width, depth = self.n_models, self.base.width, self.base.depth
            hidden = lambda: [torch.empty(m, rows, width) for _ in range(depth)]
            widths = [self.data.n_inputs] + [width] * depth
            drops = [np.any(self.ps[:, l] > 0) for l in range(depth + 1)]
            u = [np.ones((m, rows, w), dtype=np.float32) if drop else None for w, drop in zip(widths, drops)]
            work = self._work[rows] = dict(
                u=u, u_torch=[None if a is None else torch.from_numpy(a) for a in u],
                mult=[torch.empty(m, rows, w) if drop else None for w, drop in zip(widths, drops)],
                x_in=torch.empty(m, rows, self.data.n_inputs), pre=hidden(), d=hidden(), g=hidden(),
                logits=torch.empty(m, rows, self.data.n_classes),
                x_full=self._x.expand(m, -1, -1).contiguous(), y_full=self._y.expand(m, -1),
                minus_one=torch.full((m, rows, 1), -1.0))
        return work

    def _train_mults(self, work: dict, rows: int):
        """Per layer: the training multiplier (M, rows, width), 0 (dropped) or the train scale
        (kept), from the model's mask stream; None where no model drops anything."""
        self._draw_uniforms(self._mask_rngs, rows, range(self.n_models), out=work["u"])
        mults = []
        for l, u in enumerate(work["u_torch"]):
            if u is None:
                mults.append(None)
                continue
            v = work["mult"][l].copy_(u)
            mult = torch.add(self._minus_p_big[l], v, alpha=_BIG, out=v)
            mults.append(mult.clamp_(0.0, 1.0).mul_(self._train_scale[l]))
        return mults

    def _mults(self, keeps, scales, models=None):
        return [None if k is None else k * (s if models is None else s[models]) for k, s in zip(keeps, scales)]

    def _next_batch(self):
        n, b = len(self._y), self.batch_size
        if b == n:
            return None  # full batch, in data order, as Trainer
        rows = []
        for i, rng in enumerate(self._order_rngs):
            if len(self._queues[i]) < b:
                self._queues[i] = np.concatenate([self._queues[i], rng.permutation(n)])
            rows.append(self._queues[i][:b])
            self._queues[i] = self._queues[i][b:]
        return torch.from_numpy(np.stack(rows))

    # ------------------------------------------------------------------ training
    def step(self, n: int = 1) -> np.ndarray:
        """Run n iterations; returns each model's training loss (with dropout) of the last batch."""
        if n < 1:
            raise ValueError(f"n={n} is out of range: expected an integer of at least 1")
        # Converged models' gradients and Adam's second moments drift into denormal floats, which
        # this CPU handles ~50x slower: flush them to zero (for this thread; values below 1e-38).
        torch.set_flush_denormal(True)
        for _ in range(n):
            losses = self._iterate()
        return losses

    @torch.no_grad()
    def _iterate(self) -> np.ndarray:
        """One iteration, forward and backward written out (a few in-place elementwise ops instead
        of autograd's): the gradient of each model's mean batch loss, then one optimizer step."""
        idx = self._next_batch()
        rows = self.batch_size
        work = self._workspace(rows)
        if idx is None:
            x, y = work["x_full"], work["y_full"]
        else:
            x, y = self._x[idx], self._y[idx]
        mults = self._train_mults(work, rows)
        relu = self.base.activation == "relu"
        h = x if mults[0] is None else torch.mul(x, mults[0], out=work["x_in"])
        inputs, slopes = [h], []  # slopes: d(layer output after dropout) / d(pre-activation)
        for l in range(self.base.depth):
            pre, d, mult = work["pre"][l], work["d"][l], mults[l + 1]
            torch.baddbmm(self.biases[l], h, self.weights[l], out=pre)
            if relu:  # mult >= 0, so relu(pre) * mult = relu(pre * mult), nonzero exactly where the slope is
                h = (pre if mult is None else pre.mul_(mult)).relu_()
                torch.sign(h, out=d)
                if mult is not None:
                    d.mul_(self._train_scale[l + 1])
            else:
                a = pre.tanh_()
                torch.mul(a, a, out=d).neg_().add_(1.0)
                h = a
                if mult is not None:
                    d.mul_(mult)
                    h = a.mul_(mult)
            inputs.append(h)
            slopes.append(d)
        logits = torch.baddbmm(self.biases[-1], h, self.weights[-1], out=work["logits"])
        logp = torch.log_softmax(logits, 2)
        target = y.unsqueeze(2)
        losses = -logp.gather(2, target).squeeze(2).mean(1)
        values = losses.numpy().copy()
        bad = ~np.isfinite(values) & ~self.diverged
        if bad.any():
            self.diverged |= bad
            self.diverged_at[bad] = self.step_count + 1
        g = logp.exp_()  # d(mean loss)/d(logits) = (softmax - one-hot) / batch size
        g.scatter_add_(2, target, work["minus_one"])
        g.mul_(1.0 / rows)
        dead = torch.from_numpy(self.diverged) if self.diverged.any() else None
        if dead is not None:  # a diverged model no longer takes part: its slice gets no gradient
            g[dead] = 0.0
        fused = self._sgd_lr is not None and dead is None
        for l in range(self.base.depth, -1, -1):
            w, w_t, b, g_t = self.weights[l], self._weights_t[l], self.biases[l], g.transpose(1, 2)
            below = None if l == 0 else torch.bmm(g, w_t, out=work["g"][l - 1])  # with the old weights
            if fused:  # the weight gradient, transposed (g^T h), goes straight into the weights
                w_t.baddbmm_(g_t, inputs[l], alpha=-self._sgd_lr)
                b.sub_(g.sum(1, keepdim=True), alpha=self._sgd_lr)
            else:
                if w.grad is None:
                    w.grad, b.grad = torch.empty_like(w), torch.empty_like(b)  # same strides as w
                torch.bmm(g_t, inputs[l], out=w.grad.transpose(1, 2))
                torch.sum(g, 1, keepdim=True, out=b.grad)
            if below is not None:
                g = below.mul_(slopes[l - 1])  # dropped neurons pass no gradient; survivors scaled as forward
        if not fused:
            if dead is not None:
                for t in self.weights + self.biases:
                    t.grad[dead] = 0.0
            self.opt.step()
        self.step_count += 1
        values[self.diverged] = np.nan
        return values

    def _linear(self, h, w, b):
        return torch.baddbmm(b, h, w) if h.dim() == 3 else torch.matmul(h, w).add_(b)

    # ------------------------------------------------------------------ test time
    @torch.no_grad()
    def logits(self, x) -> torch.Tensor:
        """Test-time logits (M, N, C): nothing dropped; classic mode scales by the keep probability."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        return self._forward(x, self._test_mult)[0]

    @torch.no_grad()
    def evaluate(self) -> dict[str, np.ndarray]:
        """Test-time loss and accuracy per model, on the whole training set and on the test set.

        Diverged models get NaN."""
        out = {}
        for name, x, y in (("train", self._x, self._y), ("test", self._xs, self._ys)):
            logits = self._forward(x, self._test_mult)[0]
            out[f"{name}_loss"] = F.cross_entropy(
                logits.flatten(0, 1), y.repeat(self.n_models), reduction="none").view(self.n_models, -1).mean(1).numpy()
            out[f"{name}_acc"] = (logits.argmax(2) == y).float().mean(1).numpy()
        for values in out.values():
            values[self.diverged] = np.nan
        return out

    @torch.no_grad()
    def mc_probs(self, x, passes: int, seed: int = 0, models: Sequence[int] | None = None) -> torch.Tensor:
        """Monte-Carlo dropout: class probabilities of `passes` stochastic passes, (T, M', N, C).

        Masks come from each model's probe stream (seeded by `seed`), so training is untouched.
        """
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        models = list(range(self.n_models)) if models is None else list(models)
        rngs = {mi: np.random.default_rng([self._probe_seeds[mi], seed]) for mi in models}
        saved = self.weights, self.biases
        self.weights = [w[models] for w in saved[0]]
        self.biases = [b[models] for b in saved[1]]
        try:
            runs = [torch.softmax(self._forward(x, self._mults(self._draw_keeps(rngs, len(x), only=models),
                                                                self._train_scale, models))[0], 2)
                    for _ in range(passes)]
        finally:
            self.weights, self.biases = saved
        return torch.stack(runs)

    @torch.no_grad()
    def activations(self, x) -> list[np.ndarray]:
        """Each hidden layer's test-time activations (M, N, width), after the nonlinearity."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        return [a.numpy() for a in self._forward(x, self._test_mult, keep=True)[1]]
