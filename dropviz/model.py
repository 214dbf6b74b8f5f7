"""The engine core: M multilayer perceptrons of one architecture, their weights stacked, with
explicit dropout. `Trainer` (live view, CLI) is the case M = 1; `BatchedTrainer` (experiments)
trains many runs at once. Both draw batches and masks, run the forward and backward passes and
update the weights here, so the same config and seed give the same run in both.

Dropout is a multiplier on a layer's outputs: the input layer's (input_p), then each hidden
layer's (p). Its factors come from `dropout.multipliers`:

    training:  0 for a dropped neuron, Multipliers.train for a kept one (1/(1-p) or 1)
    test time: Multipliers.test for every neuron (1 or 1-p)

The mask rule: each example, layer and neuron draws a float32 uniform u in [0, 1) from its run's
mask stream and is kept iff u > p, so with probability 1 - p (to within 2^-24). Per iteration a
run draws the input layer first, then hidden layers 1..depth, one (batch, width) array each;
a layer with p = 0 draws nothing.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch
from torch import nn

from .dropout import layer_multipliers

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}
_BIG = 2.0**64  # see MaskStream.rule


# A cross-entropy this large means logits ~10^4 apart (chance level is ln(classes) < 2.4): the run has blown
# up, even while the numbers are still finite. Both engines stop a run here, before its charts read 10^30.
LOSS_LIMIT = 1e4


def blown_up(loss):
    """True (elementwise, for an array of losses) where a training loss is NaN, infinite or past LOSS_LIMIT."""
    if isinstance(loss, (float, np.floating)):  # every iteration's check: a tenth of the array path's time
        return not abs(loss) <= LOSS_LIMIT  # NaN compares False
    loss = np.asarray(loss)
    with np.errstate(invalid="ignore"):
        out = ~np.isfinite(loss) | (np.abs(loss) > LOSS_LIMIT)
    return bool(out) if out.ndim == 0 else out


def run_seeds(seed: int) -> tuple[int, int, int, int]:
    """A run's four independent seeds: initial weights, batch order, dropout masks, probe passes.

    Each depends on `seed` alone, so runs with the same seed and other p, mode or learning rate
    start from the same weights and see the same batches. Trainer and BatchedTrainer both derive
    them here and draw from them with the same code, so the same seed gives the same weights,
    batches and masks in both; their losses agree to float rounding (stacked products may round
    differently), not necessarily bit for bit.
    """
    return tuple(int(s) for s in np.random.SeedSequence(seed).generate_state(4))


class MLP(nn.Module):
    """One network's layers: hidden layers, then the output layer. It holds weights only.

    It builds a run's initial weights (PyTorch's nn.Linear init, from our own generator), and
    `Runs.module` shows a run's current weights as one. The forward pass is `Runs.forward`.
    """

    def __init__(self, n_inputs: int, width: int, depth: int, n_outputs: int, generator: torch.Generator):
        super().__init__()
        sizes = [n_inputs] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.out = nn.Linear(width, n_outputs)
        for layer in self.layers:  # weights depend only on the generator's seed
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)

    @property
    def layers(self) -> list[nn.Linear]:
        return [*self.hidden, self.out]

    @classmethod
    def for_run(cls, cfg, data, init_seed: int) -> MLP:
        """The initial network of a run: the architecture of `cfg` for `data`, weights from `init_seed`."""
        return cls(data.n_inputs, cfg.width, cfg.depth, data.n_outputs, torch.Generator().manual_seed(init_seed))


class BatchOrder:
    """Each run's batches: the training set reshuffled from its own stream, pass after pass."""

    def __init__(self, seeds: Sequence[int], n: int, batch_size: int):
        self.n, self.batch_size = n, batch_size
        self._rngs = [np.random.default_rng(s) for s in seeds]
        self._queues = [np.empty(0, dtype=np.int64) for _ in seeds]

    def next(self) -> np.ndarray | None:
        """The next batch's indices, (M, batch_size); None for the full batch in data order."""
        n, b = self.n, self.batch_size
        if b == n:
            return None
        rows = []
        for i, rng in enumerate(self._rngs):
            if len(self._queues[i]) < b:
                self._queues[i] = np.concatenate([self._queues[i], rng.permutation(n)])
            rows.append(self._queues[i][:b])
            self._queues[i] = self._queues[i][b:]
        return np.stack(rows)

    def state(self) -> tuple:
        return [r.bit_generator.state for r in self._rngs], [q.copy() for q in self._queues]

    def restore(self, state: tuple) -> None:
        rngs, queues = state
        for r, s in zip(self._rngs, rngs):
            r.bit_generator.state = s
        self._queues = [q.copy() for q in queues]


class MaskStream:
    """The dropout of M runs: per run and layer (input, hidden 1..depth) its drop probability and
    factors, and per run a mask stream. Training multipliers come from `train`, Monte-Carlo and
    probe passes' from `sample`; both draw with `draw` and apply `rule`."""

    def __init__(self, seeds: Sequence[int], widths: Sequence[int], cfgs: Sequence):
        self.widths = list(widths)
        self._rngs = [np.random.default_rng(s) for s in seeds]
        self.configure(cfgs)

    def configure(self, cfgs: Sequence) -> None:
        """Each run's drop probabilities and mode (one config per run): the table of factors."""
        depth = len(self.widths) - 1
        table = [layer_multipliers(c.input_p, c.p, depth, c.mode) for c in cfgs]
        m = len(table)
        self.table = table  # table[run][layer]: dropout.Multipliers
        self.ps = np.array([[f.p for f in row] for row in table], dtype=np.float64)

        def col(l, key):  # one factor per run, shaped to broadcast over (M, rows, width)
            return torch.tensor([getattr(row[l], key) for row in table], dtype=torch.float32).view(m, 1, 1)

        self.train_scale = [col(l, "train") for l in range(depth + 1)]  # (M, 1, 1) per layer
        self.test_mults = [None if all(row[l].test == 1 for row in table) else col(l, "test")
                           for l in range(depth + 1)]
        self._minus_p_big = [-col(l, "p") * _BIG for l in range(depth + 1)]  # exact: a power of two
        self.drops = tuple(bool(np.any(self.ps[:, l] > 0)) for l in range(depth + 1))
        self._buffers: dict[int, tuple] = {}

    def state(self) -> list:
        """Where each run's training mask stream is (probe and Monte-Carlo streams are seeded per use)."""
        return [r.bit_generator.state for r in self._rngs]

    def restore(self, state: list) -> None:
        for r, s in zip(self._rngs, state):
            r.bit_generator.state = s

    def test(self, models: Sequence[int] | None = None) -> list[torch.Tensor | None]:
        """Test-time multipliers per layer, of every run or only of `models`: (M', 1, 1) or None."""
        if models is None:
            return self.test_mults
        pick = picked(models)
        return [None if m is None else m[pick] for m in self.test_mults]

    def draw(self, rngs, rows: int, models: Sequence[int], out=None) -> list[np.ndarray | None]:
        """Per layer (input, hidden...): float32 uniforms (M', rows, width), each run's from its own
        stream (rngs[run]), input layer first; None where none of `models` drops anything. A run with
        p = 0 in a layer draws nothing there and gets u = 1 (kept: 1 > 0). `out` (preallocated, its
        p = 0 slices already 1) is filled instead of new arrays."""
        us = []
        every = len(models) == len(self.table)  # all runs (training): which layers drop is known already
        for l, width in enumerate(self.widths):
            if not (self.drops[l] if every else np.any(self.ps[models, l] > 0)):
                us.append(None)
                continue
            u = np.ones((len(models), rows, width), dtype=np.float32) if out is None else out[l]
            for i, run in enumerate(models):
                if self.ps[run, l] > 0:
                    rngs[run].random(out=u[i], dtype=np.float32)
            us.append(u)
        return us

    def rule(self, u: torch.Tensor, layer: int, models: Sequence[int] | None = None, out=None) -> torch.Tensor:
        """THE keep rule: a neuron is kept iff its uniform u > p (p as float32), and then multiplied
        by its training factor; a dropped one by 0. Float ops only: (u - p) x 2^64 is exact in sign
        (powers of two, one rounding), and a kept u (a multiple of 2^-24, as `draw` makes them) is
        at least 2^-48 above p, so clamping to [0, 1] gives exactly 0 or 1. (A comparison would make
        a bool tensor: several times slower.)"""
        minus_p_big, scale = self._minus_p_big[layer], self.train_scale[layer]
        if models is not None and list(models) != list(range(len(self.table))):
            pick = picked(models)
            minus_p_big, scale = minus_p_big[pick], scale[pick]
        return torch.add(minus_p_big, u, alpha=_BIG, out=out).clamp_(0.0, 1.0).mul_(scale)

    def train(self, rows: int) -> list[torch.Tensor | None]:
        """This iteration's training multipliers per layer, (M, rows, width), from the mask streams;
        None where no run drops anything. Written into buffers reused every iteration."""
        buffers = self._buffers.get(rows)
        if buffers is None:
            m = len(self.table)
            u = [np.ones((m, rows, w), dtype=np.float32) if d else None for w, d in zip(self.widths, self.drops)]
            buffers = self._buffers[rows] = (u, [None if a is None else torch.from_numpy(a) for a in u],
                                             [None if a is None else torch.empty(a.shape) for a in u])
        u, u_torch, mults = buffers
        self.draw(self._rngs, rows, range(len(self.table)), out=u)
        return [None if t is None else self.rule(t, l, out=out) for l, (t, out) in enumerate(zip(u_torch, mults))]

    def sample(self, rngs, rows: int, models: Sequence[int]) -> list[torch.Tensor | None]:
        """Fresh training multipliers (len(models), rows, width) per layer from other streams
        (rngs[run]): a Monte-Carlo pass or a probe pass, by the same draws and rule as training."""
        us = self.draw(rngs, rows, models)
        return [None if u is None else self.rule(torch.from_numpy(u), l, models) for l, u in enumerate(us)]


@dataclass(frozen=True)
class Batch:
    """The batch of the latest training pass, as every run saw it."""
    idx: np.ndarray | None  # (M, rows) training-set indices; None: the full set in data order
    x: torch.Tensor         # (M, rows, n_inputs) inputs, before input dropout
    y: torch.Tensor         # (M, rows) labels
    mults: list             # training multipliers per layer (input, hidden...): (M, rows, width) or None


@dataclass(frozen=True)
class Tapped:
    """One example of one run in the latest training pass (`Runs.train_forward(tap=...)`)."""
    row: int        # its row in the batch
    pre: list       # per hidden layer: its activations before dropout (width,)
    grad: list      # per hidden layer: d(its own loss)/d(pre), with the weights before the update
    logits: torch.Tensor  # (n_classes,)


class Runs:
    """M runs that share data and architecture (everything but p, input_p, mode, weight_decay, max_norm, seed).

    Weights are stacked, (M, in, out) per layer, and every layer is one batched matrix product.
    Per run it is the computation of that run alone: its own initial weights (its MLP), batch order
    and masks; Adam and SGD are elementwise, so one optimizer over the stacked tensors updates each
    run as its own optimizer would; so are L2 (per run) and max-norm (per run and neuron). Plain SGD
    is folded into the weight-gradient product (w += -lr * h^T g in one GEMM call: the same update,
    rounded once instead of twice).

    A training iteration is `train_forward()` (losses), then `train_backward()` (gradient and
    update), written out by hand: a few in-place elementwise ops on preallocated tensors instead of
    autograd's allocations and bool tensors. Its forward pass is the one of `forward` (checked
    against autograd on `forward` by the tests). Both engines train within `flush_denormals()`.
    """

    def __init__(self, cfgs: Sequence, data):
        self.cfgs = list(cfgs)
        base = self.cfgs[0]
        self.data, self.depth, self.n_models = data, base.depth, len(self.cfgs)
        self.activation = base.activation
        self.act = ACTIVATIONS[base.activation]
        seeds = [run_seeds(c.seed) for c in self.cfgs]
        self._nets = [MLP.for_run(base, data, s[0]) for s in seeds]
        # stored as nn.Linear does, (M, out, in), and shown as (M, in, out): the batched products then
        # read each operand in a layout MKL handles fast (the 2-column output layer is 6x slower otherwise)
        self.weights = [torch.stack([net.layers[l].weight.detach() for net in self._nets])
                        .transpose(1, 2).requires_grad_() for l in range(self.depth + 1)]
        self._weights_t = [w.detach().transpose(1, 2) for w in self.weights]  # (M, out, in), contiguous
        self.biases = [torch.stack([net.layers[l].bias.detach()[None] for net in self._nets])
                       .contiguous().requires_grad_() for l in range(self.depth + 1)]
        self.params = [t for pair in zip(self.weights, self.biases) for t in pair]
        self.lr = base.lr
        if base.optimizer == "sgd":  # plain sgd is fused into the backward pass: this runs with momentum or L2,
            # or when a diverged run sits out
            self.opt = torch.optim.SGD(self.params, lr=base.lr, momentum=base.momentum)
            self._sgd = base.momentum == 0  # plain sgd
        else:
            self.opt = torch.optim.Adam(self.params, lr=base.lr, fused=True)
            self._sgd = False

        self.x, self.y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
        self.regression = data.regression
        self.batch_size = min(base.batch_size, len(self.y))
        self.order = BatchOrder([s[1] for s in seeds], len(self.y), self.batch_size)
        self.masks = MaskStream([s[2] for s in seeds], [data.n_inputs] + [base.width] * self.depth, self.cfgs)
        self.probe_seeds = [s[3] for s in seeds]
        self.batch: Batch | None = None
        self.tapped: Tapped | None = None
        self._work: dict[int, dict] = {}
        self._pass: dict | None = None
        self._regularizers()

    def configure(self, cfgs: Sequence) -> None:
        """New live settings (p, input_p, lr) from the same runs' new configs."""
        self.cfgs = list(cfgs)
        self.masks.configure(self.cfgs)
        self._regularizers()
        self.lr = self.cfgs[0].lr
        for group in self.opt.param_groups:
            group["lr"] = self.lr

    def _regularizers(self) -> None:
        """Each run's L2 factor and max-norm bound, (M, 1, 1), or None where no run uses it."""
        def per_run(values, used):
            return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1) if used else None

        self.decay = per_run([c.weight_decay for c in self.cfgs], any(c.weight_decay for c in self.cfgs))
        self.max_norm = per_run([c.max_norm or math.inf for c in self.cfgs], any(c.max_norm for c in self.cfgs))

    def module(self, run: int) -> MLP:
        """Run `run`'s network as an MLP whose parameters are views of the stacked weights (no copy)."""
        net = self._nets[run]
        if net.out.weight.data_ptr() != self._weights_t[-1][run].data_ptr():  # still its initial copy
            for l, layer in enumerate(net.layers):
                layer.weight = nn.Parameter(self._weights_t[l][run])
                layer.bias = nn.Parameter(self.biases[l].detach()[run, 0])
        return net

    # ------------------------------------------------------------------ any pass
    def forward(self, x, mults, keep: bool = False, models: Sequence[int] | None = None):
        """Logits (M', N, C) and, if keep, each hidden layer's activations before its multiplier.

        x is (N, in), shared by all runs, or (M', N, in); mults has one entry per layer (input,
        hidden...): None, or a tensor broadcastable to (M', N, width). models: only these runs.
        """
        weights, biases = self.weights, self.biases
        if models is not None:
            pick = picked(models)
            weights, biases = [w[pick] for w in weights], [b[pick] for b in biases]
        if mults[0] is not None:
            x = x * mults[0]
        acts, h = [], x
        for w, b, mult in zip(weights, biases, mults[1:]):
            h = self.act(_linear(h, w, b))
            if keep:
                acts.append(h)
            if mult is not None:
                h = h * mult
        return _linear(h, weights[-1], biases[-1]), acts

    def mc_probs(self, x, passes: int, seed: int = 0, models: Sequence[int] | None = None) -> torch.Tensor:
        """Monte-Carlo dropout: class probabilities of `passes` stochastic passes, (T, M', N, C)."""
        return torch.softmax(self.mc_outputs(x, passes, seed, models), 3)

    @torch.no_grad()
    def mc_outputs(self, x, passes: int, seed: int = 0, models: Sequence[int] | None = None) -> torch.Tensor:
        """Monte-Carlo dropout: the outputs (logits, or a regression's values) of `passes` stochastic
        passes, (T, M', N, outputs). Masks come from each run's probe stream with `seed`: training's
        streams are untouched."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        models = list(range(self.n_models)) if models is None else list(models)
        rngs = {run: np.random.default_rng([self.probe_seeds[run], seed]) for run in models}
        return torch.stack([self.forward(x, self.masks.sample(rngs, len(x), models), models=models)[0]
                            for _ in range(passes)])

    def state(self) -> dict:
        """Everything that decides the next iterations: the weights, the optimizer's moments, each run's batch
        order and mask stream. restore(state) goes back to it, bit for bit (the settings are configure()'s)."""
        with torch.no_grad():
            moments = {i: _copied(self.opt.state[t]) for i, t in enumerate(self.params) if t in self.opt.state}
            return {"params": [t.clone() for t in self.params], "opt": moments, "order": self.order.state(),
                    "masks": self.masks.state()}

    def restore(self, state: dict) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self.params, state["params"])  # in place: the transposed views stay views
        self.opt.state.clear()
        for i, moments in state["opt"].items():
            self.opt.state[self.params[i]] = _copied(moments)
        self.order.restore(state["order"])
        self.masks.restore(state["masks"])

    def probe_multipliers(self, run: int, step: int) -> list:
        """Training multipliers of one example of `run` outside any batch, per layer (width,) or None:
        from its probe stream and `step`, apart from the Monte-Carlo passes' and training's streams."""
        rng = {run: np.random.default_rng([self.probe_seeds[run], step, 1])}
        return [None if m is None else m[0, 0] for m in self.masks.sample(rng, 1, [run])]

    # ------------------------------------------------------------------ a training iteration
    @property
    def tapping(self) -> bool:
        """Whether the pending training pass (forward done, backward not yet) taps an example."""
        return self._pass is not None and self._pass["tapped"] is not None

    def _workspace(self, rows: int) -> dict:
        """Preallocated tensors of one iteration with `rows` examples per run: no allocation (a fresh
        multi-MB tensor costs page faults) and the same memory every time (cache)."""
        work = self._work.get(rows)
        if work is None:
            m, width, n_in = self.n_models, self.cfgs[0].width, self.data.n_inputs

            def hidden():
                return [torch.empty(m, rows, width) for _ in range(self.depth)]

            work = self._work[rows] = {
                "x_in": torch.empty(m, rows, n_in), "pre": hidden(), "d": hidden(), "g": hidden(),
                "logits": torch.empty(m, rows, self.data.n_outputs),
                "x_full": self.x.expand(m, -1, -1).contiguous(), "y_full": self.y.expand(m, -1),
                "minus_one": torch.full((m, rows, 1), -1.0)}
        return work

    @torch.no_grad()
    def train_forward(self, tap: tuple[int, int] | None = None) -> np.ndarray:
        """Draw the next batch and its masks and run the training pass: each run's mean batch loss.
        The batch is kept in `self.batch`; `train_backward` then applies the update.

        tap=(run, example): if that training example is in that run's batch, `train_backward` leaves
        its detail in `self.tapped` (else None): `Tapped` of this very pass."""
        idx = self.order.next()
        rows = self.batch_size
        work = self._workspace(rows)
        if idx is None:
            x, y = work["x_full"], work["y_full"]
        else:
            t = torch.from_numpy(idx)
            x, y = self.x[t], self.y[t]
        mults = self.masks.train(rows)
        self.batch = Batch(idx, x, y, mults)
        self.tapped, tapped = None, None
        if tap is not None:
            run, example = tap
            found = [example] if idx is None else np.flatnonzero(idx[run] == example)
            if len(found):
                tapped = {"at": (run, int(found[0])), "pre": [], "grad": []}
        relu = self.activation == "relu"
        h = x if mults[0] is None else torch.mul(x, mults[0], out=work["x_in"])
        inputs, slopes = [h], []  # slopes: d(layer output after dropout) / d(pre-activation)
        for l in range(self.depth):
            pre, d, mult = work["pre"][l], work["d"][l], mults[l + 1]
            torch.baddbmm(self.biases[l], h, self.weights[l], out=pre)
            if tapped is not None:  # before the in-place ops below
                tapped["pre"].append(self.act(pre[tapped["at"]]))
            if relu:  # mult >= 0, so relu(pre) * mult = relu(pre * mult), nonzero exactly where the slope is
                h = (pre if mult is None else pre.mul_(mult)).relu_()
                torch.sign(h, out=d)
                if mult is not None:
                    d.mul_(self.masks.train_scale[l + 1])
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
        target = y.unsqueeze(2)
        if self.regression:  # squared error; `head` is its gradient d(mean loss)/d(output) = 2 (output - y) / rows
            error = logits - target
            losses = error.square().mean((1, 2))
            head = error.mul_(2.0 / rows)
        else:  # cross-entropy; `head` holds the log-probabilities, which train_backward turns into the gradient
            head = torch.log_softmax(logits, 2)
            losses = -head.gather(2, target).squeeze(2).mean(1)
        if tapped is not None:
            tapped["logits"] = logits[tapped["at"]].clone()
        self._pass = {"work": work, "inputs": inputs, "slopes": slopes, "head": head, "target": target,
                      "rows": rows, "tapped": tapped}
        return losses.numpy().copy()

    @torch.no_grad()
    def train_backward(self, dead: np.ndarray | None = None) -> None:
        """The gradient of each run's mean batch loss of the latest `train_forward`, then one update.
        Runs marked in `dead` (bool, (M,)) get no gradient."""
        state, self._pass = self._pass, None
        work, inputs, slopes, rows = state["work"], state["inputs"], state["slopes"], state["rows"]
        tapped, mults = state["tapped"], self.batch.mults
        g = state["head"]
        if not self.regression:  # d(mean loss)/d(logits) = (softmax - one-hot) / batch size
            g = g.exp_().scatter_add_(2, state["target"], work["minus_one"]).mul_(1.0 / rows)
        dead = torch.from_numpy(dead) if dead is not None and dead.any() else None
        if dead is not None:
            g[dead] = 0.0
        fused = self._sgd and dead is None and self.decay is None
        for l in range(self.depth, -1, -1):
            w, w_t, b, g_t = self.weights[l], self._weights_t[l], self.biases[l], g.transpose(1, 2)
            below = None if l == 0 else torch.bmm(g, w_t, out=work["g"][l - 1])  # with the old weights
            if fused:  # the weight gradient, transposed (g^T h), goes straight into the weights
                w_t.baddbmm_(g_t, inputs[l], alpha=-self.lr)
                b.sub_(g.sum(1, keepdim=True), alpha=self.lr)
            else:
                if w.grad is None:
                    w.grad, b.grad = torch.empty_like(w), torch.empty_like(b)  # same strides as w
                torch.bmm(g_t, inputs[l], out=w.grad.transpose(1, 2))
                torch.sum(g, 1, keepdim=True, out=b.grad)
                if self.decay is not None:  # L2: the gradient of weight_decay/2 x |w|^2, weights only
                    w.grad.addcmul_(w, self.decay)
            if below is not None:
                if tapped is not None:  # d(the example's own loss)/d(hidden layer l's activations before dropout)
                    at, mult = tapped["at"], mults[l]
                    grad = below[at] * rows
                    tapped["grad"].insert(0, grad if mult is None else grad.mul_(mult[at]))
                g = below.mul_(slopes[l - 1])  # dropped neurons pass no gradient; survivors scaled as forward
        if not fused:
            if dead is not None:
                for t in self.params:
                    t.grad[dead] = 0.0
            self.opt.step()
        if self.max_norm is not None:
            self._constrain_norms(dead)
        if tapped is not None:
            self.tapped = Tapped(row=tapped["at"][1], pre=tapped["pre"], grad=tapped["grad"], logits=tapped["logits"])


    def _constrain_norms(self, dead: torch.Tensor | None) -> None:
        """Max-norm: each hidden neuron's incoming weight vector (a row of the (M, out, in) layout, bias
        not included) longer than its run's bound is scaled back onto the sphere of that radius."""
        for w_t in self._weights_t[:-1]:
            factor = (self.max_norm / torch.linalg.vector_norm(w_t, dim=2, keepdim=True)).clamp_(max=1.0)
            if dead is not None:
                factor[dead] = 1.0
            w_t.mul_(factor)


_DENORMAL = torch.tensor([1], dtype=torch.int32).view(torch.float32)  # 2^-149, made from its bits


def picked(models: Sequence[int]) -> slice | list[int]:
    """An index of the stacked runs `models`: a slice when they are consecutive (a view, where a list of indices
    copies the weights: most of the cost of a one-example pass)."""
    models = list(models)
    if models and models == list(range(models[0], models[-1] + 1)):
        return slice(models[0], models[-1] + 1)
    return models


def _copied(moments: dict) -> dict:
    """An optimizer's state of one parameter, its tensors cloned (a checkpoint must not share them)."""
    return {k: v.clone() if torch.is_tensor(v) else v for k, v in moments.items()}


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Within: floats below 1e-38 (denormals) count as zero, on this thread. Converged runs' gradients
    and Adam's second moments drift into denormals, which this CPU handles ~50x slower. The thread's
    own setting is restored afterwards (Hypothesis, for one, refuses to run with it on)."""
    was_on = (_DENORMAL * 2).item() == 0
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if not was_on:
            torch.set_flush_denormal(False)


def _linear(h, w, b):
    """h (M, N, in) or (N, in) shared by the M runs, w (M, in, out), b (M, 1, out): (M, N, out)."""
    return torch.baddbmm(b, h if h.dim() == 3 else h.expand(len(w), -1, -1), w)
