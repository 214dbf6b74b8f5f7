"""Data with more (or fewer) than two features, or more than two classes: the test points projected on the two
principal components of the training points (PCA), coloured by the class the network predicts at test time."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..data import Dataset
from ..frame import Frame
from .style import INK, SMALL, base_layout, figure, ink_axis

# colour-blind-safe (Okabe-Ito), enough for 10 classes
CLASS_PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
                 "#8c564b", "#7f7f7f")


def principal_axes(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean and the two leading principal directions (2, d) of the training points, and the share of their
    variance each explains. One feature: the second direction is zero."""
    mean = x_train.mean(0)
    _, s, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    axes = np.zeros((2, x_train.shape[1]))
    axes[:min(2, len(vt))] = vt[:2]
    var = s ** 2
    share = np.zeros(2)
    share[:min(2, len(var))] = (var / var.sum())[:2] if var.sum() > 0 else 0
    return mean, axes, share


_AXES: dict[int, tuple] = {}  # id of a training set -> (the set, its principal_axes): one SVD per data set


def _axes_of(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """principal_axes of a data set's training points, computed once: the panel redraws while a run plays."""
    cached = _AXES.get(id(x_train))
    if cached is None or cached[0] is not x_train:
        if len(_AXES) >= 8:
            _AXES.clear()
        cached = _AXES[id(x_train)] = (x_train, principal_axes(np.asarray(x_train, float)))
    return cached[1]


def projection_figure(data: Dataset, test_probs, frame: Frame, classes=None, height: int = 600) -> go.Figure:
    """Test points on the first two principal components: fill = predicted class, a cross where it is wrong."""
    classes = list(classes) if classes is not None else [str(c) for c in range(data.n_classes)]
    mean, axes, share = _axes_of(data.x_train)
    xy = (np.asarray(data.x_test, float) - mean) @ axes.T
    predicted = np.asarray(test_probs).argmax(1)
    traces = []
    for c, name in enumerate(classes):
        rows = predicted == c
        traces.append(dict(type="scatter", x=xy[rows, 0], y=xy[rows, 1], mode="markers",
                           name=f"predicted {name}", text=[classes[t] for t in data.y_test[rows]],
                           hovertemplate=f"predicted {name}, true %{{text}}<extra></extra>",
                           marker=dict(size=9, color=CLASS_PALETTE[c % len(CLASS_PALETTE)],
                                       line=dict(color="white", width=1))))
    wrong = predicted != data.y_test
    traces.append(dict(type="scatter", x=xy[wrong, 0], y=xy[wrong, 1], mode="markers", name="wrong", hoverinfo="skip",
                       marker=dict(size=13, symbol="x-thin-open", color=INK, line=dict(color=INK, width=2))))
    layout = base_layout(f"Test-time prediction, iteration {frame.step}", height, "projection",
                         subtitle=f"test points on 2 principal components · test accuracy {frame.test_acc:.0%}",
                         xaxis=ink_axis(f"PC 1 ({share[0]:.0%} of variance)", zeroline=False),
                         yaxis=ink_axis(f"PC 2 ({share[1]:.0%} of variance)", zeroline=False),
                         margin=dict(l=70, r=20, t=85, b=10, pad=0), showlegend=True,
                         legend=dict(orientation="h", x=0.5, xanchor="center", y=0, yanchor="bottom",
                                     yref="container", font=dict(size=SMALL, color=INK)))
    layout["title"].update(y=1, yref="container", yanchor="top", pad=dict(t=10, b=0, l=0, r=0))
    return figure(traces, layout)
