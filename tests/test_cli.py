"""The command line: flags from FIELDS, JSON output, one-line errors with status 2."""
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from dropviz import FIELDS, Config, Trainer
from dropviz.cli import add_config_flags, build_parser, config_from_args, main

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"step", "train_loss", "clean_train_loss", "test_loss", "train_acc", "test_acc", "diverged", "config"}


def run(capsys, *argv):
    status = main(["train", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_has_the_final_metrics_of_the_same_training(capsys):
    status, out, _ = run(capsys, "--p", "0.2", "--n-train", "30", "--input-p", "0.1", "--steps", "25", "--json")
    assert status == 0
    result = json.loads(out)
    assert set(result) >= KEYS
    cfg = Config(p=0.2, n_train=30, input_p=0.1)
    assert result["config"] == cfg.to_dict()
    frame = Trainer(cfg).step(25)
    assert result["step"] == 25 and result["diverged"] is False
    for key in ("train_loss", "clean_train_loss", "test_loss", "train_acc", "test_acc"):
        assert result[key] == getattr(frame, key)


def test_every_config_field_is_a_flag_with_its_range_in_help():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    text = " ".join(train.format_help().split())
    for field in FIELDS:
        assert "--" + field.name.replace("_", "-") in text
        assert field.allowed() in text
    assert "--steps" in text and "an integer from 1 to 1000000" in text


def test_readable_summary_and_progress_bar(capsys):
    status, out, err = run(capsys, "--steps", "200", "--optimizer", "sgd", "--lr", "0.1")
    assert status == 0
    assert "200 iterations" in out and "test loss" in out and "accuracy" in out
    assert "200/200" in err and "#" * 30 in err  # the bar goes to stderr, full at the end


def test_diverged_run_reports_it(capsys):
    status, out, _ = run(capsys, "--optimizer", "sgd", "--lr", "50", "--steps", "300", "--json")
    result = json.loads(out)
    assert status == 0 and result["diverged"] is True and "learning rate" in result["message"]
    assert result["step"] < 300
    assert all(math.isfinite(result[k]) for k in ("train_loss", "test_loss", "clean_train_loss"))


@pytest.mark.parametrize("argv, expected", [
    (["--p", "1.5"], "--p=1.5 is out of range: expected a number from 0 to 0.95"),
    (["--p", "1"], "--p=1 is out of range: expected a number from 0 to 0.95 (at p = 1 no neuron survives"),
    (["--depth", "abc"], "--depth=abc is not valid: expected an integer from 1 to 8"),
    (["--width", "2.5"], "--width=2.5 is not valid: expected an integer from 1 to 256"),
    (["--dataset", "unknown"], "--dataset=unknown is not valid: expected one of moons, circles"),
    (["--n-train", "3"], "--n-train=3 is out of range: expected an integer from 4 to 2000"),
    (["--steps", "0"], "--steps=0 is out of range: expected an integer from 1 to 1000000"),
    (["--dataset", "digits", "--n-train", "1500"], "--n-train=1500 is out of range for digits"),
    (["--lr"], "--lr"),
    (["--bogus", "3"], "unrecognized arguments: --bogus 3; allowed flags: --activation, --batch-size"),
])
def test_bad_flags_exit_2_with_one_line(capsys, argv, expected):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *argv])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1
    assert err.startswith("dropviz: error: ") and expected in err


def test_config_flags_are_reusable_by_other_subcommands():
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    assert config_from_args(parser.parse_args([])) == Config()
    assert config_from_args(parser.parse_args(["--input-p", "0.1", "--batch-size", "8"])) == \
        Config(input_p=0.1, batch_size=8)
    with pytest.raises(ValueError, match="^--n-train=1500 is out of range for digits"):
        config_from_args(parser.parse_args(["--dataset", "digits", "--n-train", "1500"]))


def test_python_m_dropviz_end_to_end():
    ok = subprocess.run([sys.executable, "-m", "dropviz", "train", "--dataset", "moons", "--p", "0.5",
                         "--steps", "20", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["step"] == 20
    bad = subprocess.run([sys.executable, "-m", "dropviz", "train", "--p", "1.5"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == "dropviz: error: --p=1.5 is out of range: expected a number from 0 to 0.95 " \
                         "(at p = 1 no neuron survives and the scale 1/(1-p) is undefined)\n"


def test_preset_flag_starts_from_the_preset_and_flags_override_it(capsys):
    from dropviz.presets import PRESETS
    status, out, _ = run(capsys, "--preset", "Deep network", "--p", "0.3", "--steps", "5", "--json")
    assert status == 0
    assert json.loads(out)["config"] == PRESETS["Deep network"].config.replace(p=0.3).to_dict()
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--preset", "Nope"])
    assert exit_.value.code == 2
    assert "--preset='Nope' is not valid: expected one of 'Overfitting without dropout'" in capsys.readouterr().err
