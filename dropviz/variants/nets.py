"""The three small networks of the variants, on 8 x 8 digits, each with its dropout sites.

    dense       64 -> 64 -> 10: standard dropout on the hidden units, or DropConnect on the first weights
    conv        two 3 x 3 conv layers (8, 16 channels, ReLU), dropout after each, 2 x 2 max pool, linear head
    recurrent   a tanh RNN of 64 units reading the digit row by row (8 steps of 8 pixels), then a linear head;
                dropout on the inputs and on the recurrent state at every step

`forward(x, rng)` is a training pass with masks from `rng` (the run's mask stream); `forward(x)` is the
test-time pass (nothing dropped, classic mode's factor 1-p applied). With keep=True it also returns what
each site saw before dropout, for the frames. The initial weights depend only on the generator: a
variant and its p = 0 twin have the same architecture and so the same initial weights.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .site import Site

FAMILIES = {"dense": ("none", "standard", "dropconnect"),
            "conv": ("none", "standard", "channel", "block"),
            "recurrent": ("none", "naive", "variational")}
SHAPES = {"standard": "element", "channel": "channel", "block": "block", "naive": "fresh",
          "variational": "shared", "dropconnect": "weight", "none": "element"}
HIDDEN, CHANNELS, UNITS, ROWS = 64, (8, 16), 64, 8


def _init(net: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of every layer, in module order, from `generator` alone."""
    for layer in net.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                bound = 1 / math.sqrt(layer.weight[0].numel())
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class DenseNet(nn.Module):
    def __init__(self, variant: str, p: float, mode: str, generator: torch.Generator):
        super().__init__()
        self.variant = variant
        self.fc, self.head = nn.Linear(64, HIDDEN), nn.Linear(HIDDEN, 10)
        self.site = Site(p if variant != "none" else 0.0, mode, SHAPES[variant])
        self.sites = [self.site]
        _init(self, generator)

    def forward(self, x, rng=None, keep: bool = False):
        site, n = self.site, len(x)
        if self.variant == "dropconnect":
            w = self.fc.weight.T  # (in, out)
            if rng is None:
                h = F.linear(x, site.test(w).T, self.fc.bias)
            else:
                mask = site.draw(rng, (n, *w.shape))
                h = torch.einsum("ni,nio->no", x, site.train(w, mask)) + self.fc.bias
            h = torch.relu(h)
            seen = [h]
        else:
            h = torch.relu(self.fc(x))
            seen = [h]
            h = site.test(h) if rng is None else site.train(h, site.draw(rng, h.shape))
        logits = self.head(h)
        return (logits, seen) if keep else logits

    @torch.no_grad()
    def moment_logits(self, x) -> torch.Tensor:
        """DropConnect's test-time rule in the paper (Wan et al. 2013): each hidden pre-activation, a sum
        of many masked terms, is taken as Gaussian with the mask's mean and variance, and the ReLU's
        expectation under it is passed on (in closed form here; the paper averages samples)."""
        f = self.site.factors
        mean_m, var_m = f.keep * f.train, f.p * f.keep * f.train**2  # of one mask entry times its factor
        w = self.fc.weight
        mu = mean_m * F.linear(x, w) + self.fc.bias
        sd = torch.sqrt(var_m * F.linear(x * x, w * w)).clamp_min(1e-12)
        z = mu / sd
        normal = torch.distributions.Normal(0.0, 1.0)
        h = mu * normal.cdf(z) + sd * torch.exp(normal.log_prob(z))
        return self.head(h)


class ConvNet(nn.Module):
    def __init__(self, variant: str, p: float, mode: str, generator: torch.Generator, block_size: int = 3):
        super().__init__()
        a, b = CHANNELS
        self.conv1, self.conv2 = nn.Conv2d(1, a, 3, padding=1), nn.Conv2d(a, b, 3, padding=1)
        self.head = nn.Linear(b * 16, 10)
        q = p if variant != "none" else 0.0
        self.sites = [Site(q, mode, SHAPES[variant], block_size) for _ in range(2)]
        _init(self, generator)

    def forward(self, x, rng=None, keep: bool = False):
        h, seen = x.view(-1, 1, 8, 8), []
        for conv, site in zip((self.conv1, self.conv2), self.sites):
            h = torch.relu(conv(h))
            seen.append(h)
            h = site.test(h) if rng is None else site.train(h, site.draw(rng, h.shape))
        logits = self.head(F.max_pool2d(h, 2).flatten(1))
        return (logits, seen) if keep else logits


class RecurrentNet(nn.Module):
    def __init__(self, variant: str, p: float, mode: str, generator: torch.Generator):
        super().__init__()
        self.inp, self.rec = nn.Linear(ROWS, UNITS), nn.Linear(UNITS, UNITS, bias=False)
        self.head = nn.Linear(UNITS, 10)
        q = p if variant != "none" else 0.0
        self.sites = [Site(q, mode, SHAPES[variant]) for _ in range(2)]  # inputs, recurrent state
        _init(self, generator)

    def forward(self, x, rng=None, keep: bool = False):
        rows = x.view(-1, ROWS, ROWS).transpose(0, 1)  # (steps, N, 8): one image row per step
        n = rows.shape[1]
        into, back = self.sites
        m_in = m_rec = None
        if rng is not None:
            m_in, m_rec = into.draw(rng, (n, ROWS), ROWS), back.draw(rng, (n, UNITS), ROWS)
        h, seen = x.new_zeros(n, UNITS), []
        for t in range(ROWS):
            if rng is None:
                xt, ht = into.test(rows[t]), back.test(h)
            else:
                xt = into.train(rows[t], None if m_in is None else m_in[t])
                ht = back.train(h, None if m_rec is None else m_rec[t])
            h = torch.tanh(self.inp(xt) + self.rec(ht))
            seen.append(h)
        logits = self.head(h)
        return (logits, [torch.stack(seen)]) if keep else logits


def build(family: str, variant: str, p: float, mode: str, generator: torch.Generator, block_size: int = 3):
    """The network of one variant; ValueError for an unknown family or variant."""
    if family not in FAMILIES:
        raise ValueError(f"family={family!r} is not valid: expected one of {', '.join(FAMILIES)}")
    if variant not in FAMILIES[family]:
        raise ValueError(f"variant={variant!r} is not valid for {family}: expected one of "
                         f"{', '.join(FAMILIES[family])}")
    if family == "conv":
        return ConvNet(variant, p, mode, generator, block_size)
    if family == "recurrent":
        return RecurrentNet(variant, p, mode, generator)
    return DenseNet(variant, p, mode, generator)
