"""First-layer features as images (co-adaptation, the 2014 paper's Fig 7) and input dropout on a digit.
Pure: arrays in, Figure out."""
from __future__ import annotations

import numpy as np
from plotly.subplots import make_subplots

from .ensemble import _title
from .style import INK_SCALE, SIGNED_SCALE

GAP = 1  # blank pixels between images


def mosaic(images: np.ndarray, per_row: int, normalise: bool = True) -> np.ndarray:
    """Images (n, h, w) tiled per_row to a row, NaN (blank) between them; each scaled to its own largest
    |value| if `normalise`, so a unit's pattern shows whatever its size."""
    images = np.asarray(images, float)
    n, h, w = images.shape
    if normalise:
        top = np.abs(images).reshape(n, -1).max(1)
        images = images / np.where(top > 0, top, 1.0)[:, None, None]
    rows = -(-n // per_row)
    canvas = np.full((rows * (h + GAP) - GAP, per_row * (w + GAP) - GAP), np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, per_row)
        canvas[r * (h + GAP):r * (h + GAP) + h, c * (w + GAP):c * (w + GAP) + w] = image
    return canvas


def features_figure(arms, n_show: int = 16, per_row: int = 4, height: int = 560):
    """Side by side, per arm (title, Features): the first n_show hidden units' incoming weights as 8x8 images
    (red positive, blue negative, each unit to its own scale), titled with the arm's two measures."""
    titles = [f"{name}<br>roughness {f.roughness:.2f} · top-8 share {f.top_energy:.0%} · test {f.test_acc:.1%}"
              for name, f in arms]
    fig = make_subplots(rows=1, cols=len(arms), subplot_titles=titles, horizontal_spacing=0.06)
    for c, (_, f) in enumerate(arms, start=1):
        z = mosaic(f.images[:n_show], per_row)
        fig.add_trace(dict(type="heatmap", z=z, zmin=-1, zmax=1, colorscale=SIGNED_SCALE, showscale=False,
                           hovertemplate="weight / unit's largest = %{z:.2f}<extra></extra>"), row=1, col=c)
    _title(fig, "First-layer weights, one 8x8 image per hidden unit",
           "same initial weights and batches in both · roughness: lower is smoother · top-8 share: higher is "
           "more local", height, 150)
    for c in range(1, len(arms) + 1):
        suffix = "" if c == 1 else str(c)
        fig.layout[f"yaxis{suffix}"].update(autorange="reversed", scaleanchor=f"x{suffix}")
    return fig


def input_dropout_figure(original: np.ndarray, thinned: np.ndarray, shape: tuple[int, int], input_p: float,
                         p_text: str, height: int = 300):
    """One digit as the network sees it: unchanged, then thinned copies with pixels dropped (and the survivors
    scaled as in training). p_text names the input drop rate in the page's notation."""
    images = np.concatenate([np.asarray(original)[None], np.asarray(thinned)]).reshape(-1, *shape)
    titles = ["the digit"] + [f"thinned #{i}" for i in range(1, len(images))]
    fig = make_subplots(rows=1, cols=len(images), subplot_titles=titles, horizontal_spacing=0.02)
    top = float(np.abs(images).max()) or 1.0
    for c, image in enumerate(images, start=1):
        fig.add_trace(dict(type="heatmap", z=image, zmin=0, zmax=top, colorscale=INK_SCALE, showscale=False,
                           hovertemplate="pixel %{z:.2f}<extra></extra>"), row=1, col=c)
    _title(fig, f"Input dropout on a digit ({p_text})",
           f"each copy drops about {input_p:.0%} of the 64 pixels; the rest are scaled as in training",
           height, 110)
    for c in range(1, len(images) + 1):
        suffix = "" if c == 1 else str(c)
        fig.layout[f"yaxis{suffix}"].update(autorange="reversed", scaleanchor=f"x{suffix}")
    return fig
