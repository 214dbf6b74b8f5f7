"""The projection panel for own data: test points on the training points' principal components, by prediction."""
from types import SimpleNamespace

import numpy as np

from dropviz.data import Dataset
from dropviz.figures import projection_figure
from dropviz.figures.projection import principal_axes


def test_principal_axes_follow_the_spread_of_the_training_points():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (400, 3)) * [0.1, 5.0, 1.0]  # most spread along feature 2, then 3
    _, axes, share = principal_axes(x)
    assert abs(axes[0, 1]) > 0.99 and abs(axes[1, 2]) > 0.99
    assert share[0] > 0.9 > share[1] > 0


def test_points_are_grouped_by_prediction_and_wrong_ones_crossed():
    rng = np.random.default_rng(1)
    x_test = rng.normal(0, 1, (6, 3)).astype(np.float32)
    data = Dataset(rng.normal(0, 1, (20, 3)).astype(np.float32), np.zeros(20, np.int64), x_test,
                   np.array([0, 1, 2, 0, 1, 2]), 3)
    probs = np.eye(3)[[0, 1, 2, 1, 1, 0]]  # the last three: wrong, right, wrong
    frame = SimpleNamespace(step=7, test_acc=4 / 6)  # the figure reads only these of the Frame
    fig = projection_figure(data, probs, frame, classes=["a", "b", "c"])
    by_name = {t.name: t for t in fig.data}
    assert [len(by_name[f"predicted {c}"].x) for c in "abc"] == [2, 3, 1]
    assert len(by_name["wrong"].x) == 2
    assert "iteration 7" in fig.layout.title.text
