"""Train many dropout networks at once: same architecture and data, different p, mode and seed.

The M models' weights are stacked, (M, in, out) per layer, and every layer is one batched matrix
product, so an experiment's 30 networks cost little more than one. Per model it is the same
computation as `Trainer`:

- the same initial weights (each model's MLP is built from its own seed, then stacked),
- the same batch order (its own order stream, same queue logic),
- its own dropout masks, one per example and hidden neuron, from its own mask stream
  (numpy, not Trainer's torch stream: same distribution, not the same draws),
- Adam and SGD are elementwise, so one optimizer over the stacked tensors updates each model
  exactly as its own optimizer would.

With p = 0 a model's losses match Trainer's to float rounding.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .config import FIELDS, Config
from .data import Dataset, make_dataset
from .model import ACTIVATIONS, MLP

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

        streams = [np.random.SeedSequence(c.seed).generate_state(4) for c in self.cfgs]
        nets = [MLP(d.n_inputs, base.width, base.depth, d.n_classes, base.activation,
                    torch.Generator().manual_seed(int(s[0]))) for s in streams]
        layers = [[*net.hidden, net.out] for net in nets]
        self.weights = [torch.stack([net_layers[i].weight.detach().T for net_layers in layers])
                        .contiguous().requires_grad_() for i in range(base.depth + 1)]
        self.biases = [torch.stack([net_layers[i].bias.detach()[None] for net_layers in layers])
                       .contiguous().requires_grad_() for i in range(base.depth + 1)]
        params = [t for pair in zip(self.weights, self.biases) for t in pair]
        if base.optimizer == "sgd":
            self.opt = torch.optim.SGD(params, lr=base.lr)
        else:
            self.opt = torch.optim.Adam(params, lr=base.lr, fused=True)

        self._order_rngs = [np.random.default_rng(int(s[1])) for s in streams]
        self._mask_rngs = [np.random.default_rng(int(s[2])) for s in streams]
        self._probe_seeds = [int(s[3]) for s in streams]
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
        threshold = np.minimum(np.round(self.ps * 2.0**32), 2.0**32 - 1) - 2.0**31
        self._threshold = [torch.tensor(threshold[:, l], dtype=torch.int64).view(m, 1, 1).to(torch.int32)
                           for l in range(base.depth + 1)]

        self._x, self._y = torch.from_numpy(d.x_train), torch.from_numpy(d.y_train)
        self._xs, self._ys = torch.from_numpy(d.x_test), torch.from_numpy(d.y_test)
        self._bits: dict[tuple, np.ndarray] = {}
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

    def _draw_keeps(self, rngs, rows: int, only=None):
        """Per layer (input, hidden...): a bool keep mask (M', rows, width), one draw per example
        and neuron, or None where no model drops anything. Keep when a uniform 32-bit integer is at
        least p x 2^32, so P(keep) = 1 - p to within 2^-32."""
        models = list(range(self.n_models)) if only is None else list(only)
        widths = [self.data.n_inputs] + [self.base.width] * self.base.depth
        keeps = []
        for l, width in enumerate(widths):
            if not np.any(self.ps[models, l] > 0):
                keeps.append(None)
                continue
            key = (l, rows, len(models))
            bits = self._bits.get(key)
            if bits is None:  # zeros: a model with p = 0 never draws and keeps every neuron
                bits = self._bits[key] = np.zeros((len(models), rows, width), dtype=np.uint32)
            n = rows * width
            for i, mi in enumerate(models):
                if self.ps[mi, l] > 0:
                    raw = rngs[mi].bit_generator.random_raw((n + 1) // 2).view(np.uint32)
                    bits[i] = raw[:n].reshape(rows, width)
            # signed view: u >= t  <=>  u - 2^31 >= t - 2^31
            keeps.append(torch.from_numpy(bits.view(np.int32)) >= self._threshold[l][models])
        return keeps

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
        """One iteration, forward and backward written out (a few fused elementwise ops instead of
        autograd's): the gradient of each model's mean batch loss, then one optimizer step."""
        idx = self._next_batch()
        if idx is None:
            x, y = self._x, self._y.expand(self.n_models, -1)
        else:
            x, y = self._x[idx], self._y[idx]
        mults = self._mults(self._draw_keeps(self._mask_rngs, y.shape[1]), self._train_scale)
        h = x if mults[0] is None else x * mults[0]
        inputs, acts = [h], []
        for w, b, mult in zip(self.weights, self.biases, mults[1:]):
            a = self._linear(h, w, b)
            a = torch.relu_(a) if self.base.activation == "relu" else torch.tanh_(a)
            acts.append(a)
            h = a if mult is None else a * mult
            inputs.append(h)
        logp = torch.log_softmax(self._linear(h, self.weights[-1], self.biases[-1]), 2)
        target = y.unsqueeze(2)
        losses = -logp.gather(2, target).squeeze(2).mean(1)
        values = losses.numpy().copy()
        bad = ~np.isfinite(values) & ~self.diverged
        if bad.any():
            self.diverged |= bad
            self.diverged_at[bad] = self.step_count + 1
        g = logp.exp_()  # d(mean loss)/d(logits) = (softmax - one-hot) / batch size
        g.scatter_add_(2, target, torch.full(target.shape, -1.0))
        g.mul_(1.0 / y.shape[1])
        dead = torch.from_numpy(self.diverged) if self.diverged.any() else None
        if dead is not None:  # a diverged model no longer takes part: its slice gets no gradient
            g[dead] = 0.0
        for l in range(self.base.depth, -1, -1):
            hin = inputs[l]
            self.weights[l].grad = (torch.matmul(hin.T, g) if hin.dim() == 2 else torch.bmm(hin.transpose(1, 2), g))
            self.biases[l].grad = g.sum(1, keepdim=True)
            if l == 0:
                break
            g = torch.bmm(g, self.weights[l].transpose(1, 2))  # back through layer l into hidden layer l
            if mults[l] is not None:
                g.mul_(mults[l])  # dropped neurons pass no gradient; survivors are scaled as forward
            a = acts[l - 1]
            g.mul_(a > 0) if self.base.activation == "relu" else g.mul_(1 - a * a)
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
