"""Each preset keeps its promise, on fixed seeds, averaged over seeds (batched trainer: fast)."""
import numpy as np
import pytest

from dropviz.config import Config
from dropviz.experiments import train_all
from dropviz.presets import PRESETS, Preset

SEEDS = (0, 1, 2)


def run_twins(preset: Preset, record_every=0):
    """The preset and its p = 0 twin, on each seed: (dropout runs, twin runs)."""
    cfgs = [preset.config.replace(p=p, seed=s) for p in (preset.config.p, 0.0) for s in SEEDS]
    runs = train_all(cfgs, preset.steps, record_every=record_every)
    return runs[:len(SEEDS)], runs[len(SEEDS):]


def mean(runs, key):
    return float(np.mean([r.final[key] for r in runs]))


def test_presets_are_named_configs_with_steps():
    assert set(PRESETS) == {"Overfitting without dropout", "Too much dropout", "Deep network"}
    for name, preset in PRESETS.items():
        assert preset.name == name and isinstance(preset.config, Config) and preset.steps > 0
        assert preset.description


def test_overfitting_preset_twin_overfits_and_dropout_generalises_better():
    preset = PRESETS["Overfitting without dropout"]
    assert preset.config.p > 0
    drop, twin = run_twins(preset, record_every=preset.steps // 2)
    # both fit the training set; only the twin's test loss climbs after the midpoint
    assert mean(twin, "train_loss") < 0.05
    assert all(r.curve[-1][2] > r.curve[1][2] for r in twin), "p = 0 test loss should climb"
    assert mean(drop, "test_loss") < mean(twin, "test_loss") - 0.1
    assert mean(drop, "test_acc") > mean(twin, "test_acc")


def test_too_much_dropout_preset_underfits():
    preset = PRESETS["Too much dropout"]
    assert preset.config.p >= 0.8
    drop, twin = run_twins(preset)
    assert mean(drop, "train_loss") > mean(twin, "train_loss") + 0.1
    assert mean(drop, "train_acc") < mean(twin, "train_acc")


def test_deep_preset_trains():
    preset = PRESETS["Deep network"]
    assert 6 <= preset.config.depth <= 8 and preset.config.p > 0
    drop, _ = run_twins(preset)
    assert not any(r.final["diverged"] for r in drop)
    assert mean(drop, "train_acc") > 0.9
    assert mean(drop, "test_acc") > 0.85


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_is_valid_in_the_url_round_trip(name):
    cfg = PRESETS[name].config
    assert Config.from_query(cfg.to_query()) == (cfg, [])


def test_each_lesson_is_visible_from_the_iteration_its_caption_names():
    """The sidebar's 'visible after about N iterations' holds from N on, on every seed."""
    every = 25
    for name, preset in PRESETS.items():
        cfgs = [preset.config.replace(p=p, seed=s) for p in (preset.config.p, 0.0) for s in SEEDS]
        runs = train_all(cfgs, preset.visible_at + 300, record_every=every)
        for drop, twin in zip(runs[:len(SEEDS)], runs[len(SEEDS):]):
            later = [(d, t) for d, t in zip(drop.curve, twin.curve) if d[0] >= preset.visible_at]
            assert later, name
            for d, t in later:  # curve rows: (step, train_loss, test_loss, train_acc, test_acc)
                if name == "Overfitting without dropout":
                    assert t[2] > d[2], (name, d[0])  # the twin's test loss is above the dropout run's
                elif name == "Too much dropout":
                    assert d[1] > t[1] + 0.1, (name, d[0])  # training loss stays well above the twin's
                else:
                    assert d[3] > 0.9, (name, d[0])  # the deep network has learnt the spiral


def test_preset_caption_names_iterations_and_seconds():
    preset = PRESETS["Overfitting without dropout"]
    text = preset.caption(iterations_per_second=75)
    assert text.startswith(preset.description)
    assert "about 400 iterations (about 5 s at this speed)" in text
