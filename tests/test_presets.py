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
