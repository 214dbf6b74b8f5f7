"""The command line: flags from FIELDS, JSON output and CSVs, one-line errors with status 2.

Everything runs in this process through `main([...])`, except one `python -m dropviz` run per
command, which checks the real entry point (each costs a fresh interpreter importing torch).
"""
import argparse
import ast
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dropviz import FIELDS, Config, Trainer
from dropviz.cli import add_config_flags, build_parser, config_from_args, main
from dropviz.cli.progress import ProgressBar
from dropviz.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"step", "train_loss", "clean_train_loss", "test_loss", "train_acc", "test_acc", "diverged", "config"}
DATA_SIZE_COLUMNS = {"n_train", "p", "seed", "train_loss", "test_loss", "train_acc", "test_acc", "diverged"}


def run(capsys, *argv):
    status = main(["train", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def fails(capsys, *argv) -> str:
    """The one line a bad command line writes to stderr, after checking status 2 and no stdout."""
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("dropviz: error: ")
    return err.rstrip("\n")


def python_m_dropviz(*args):
    return subprocess.run([sys.executable, "-m", "dropviz", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


# ---------------------------------------------------------------------- train
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
    commands = parser._subparsers._group_actions[0].choices
    for name in ("train", "experiment"):
        text = " ".join(commands[name].format_help().split())
        for field in FIELDS:
            assert "--" + field.name.replace("_", "-") in text
            assert field.allowed() in text
        assert "--steps" in text and "an integer from 1 to 1000000" in text
        assert "%%" not in text
    assert "--seeds" in " ".join(commands["experiment"].format_help().split())


def test_readable_summary_and_progress_bar(capsys):
    status, out, err = run(capsys, "--steps", "200", "--optimizer", "sgd", "--lr", "0.1")
    assert status == 0
    assert "200 iterations" in out and "test loss" in out and "accuracy" in out
    assert "200/200" in err and "#" * 30 in err and "100%" in err  # the bar goes to stderr, full at the end
    assert len(err.splitlines()) <= 10  # not a terminal: a line per tenth of the run at most


def test_diverged_run_reports_it(capsys):
    status, out, _ = run(capsys, "--optimizer", "sgd", "--lr", "50", "--steps", "300", "--json")
    result = json.loads(out)
    assert status == 0 and result["diverged"] is True and "learning rate" in result["message"]
    assert result["step"] < 300
    assert all(math.isfinite(result[k]) for k in ("train_loss", "test_loss", "clean_train_loss"))


def test_preset_flag_starts_from_the_preset_and_flags_override_it(capsys):
    status, out, _ = run(capsys, "--preset", "Deep network", "--p", "0.3", "--steps", "5", "--json")
    assert status == 0
    assert json.loads(out)["config"] == PRESETS["Deep network"].config.replace(p=0.3).to_dict()


def test_config_flags_are_reusable_by_other_subcommands():
    parser = argparse.ArgumentParser()
    add_config_flags(parser)
    assert config_from_args(parser.parse_args([])) == Config()
    assert config_from_args(parser.parse_args(["--input-p", "0.1", "--batch-size", "8"])) == \
        Config(input_p=0.1, batch_size=8)
    with pytest.raises(ValueError, match="^--n-train=1500 is out of range for digits"):
        config_from_args(parser.parse_args(["--dataset", "digits", "--n-train", "1500"]))


def test_python_m_dropviz_train_end_to_end():
    ok = python_m_dropviz("train", "--dataset", "moons", "--p", "0.5", "--steps", "20", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["step"] == 20


# ---------------------------------------------------------------------- experiment
def test_python_m_dropviz_experiment_writes_the_csv(tmp_path):
    out = tmp_path / "sweep.csv"
    result = python_m_dropviz("experiment", "data-size", "--width", "8", "--n-train", "20", "--seeds", "1",
                              "--steps", "20", "--csv", str(out))
    assert result.returncode == 0, result.stderr
    df = pd.read_csv(out)
    assert set(df.columns) >= DATA_SIZE_COLUMNS and sorted(df["p"].unique()) == [0.0, 0.5]
    assert "100%" in result.stderr  # the progress bar
    assert f"rows written to {out}" in result.stdout


def test_experiment_preset_with_flags_on_top(tmp_path, capsys):
    out = tmp_path / "p.csv"
    status = main(["experiment", "p-sweep", "--preset", "Too much dropout", "--width", "6", "--seeds", "1",
                   "--steps", "10", "--csv", str(out)])
    stdout, stderr = capsys.readouterr()
    assert status == 0, stderr
    assert (pd.read_csv(out)["width"] == 6).all() and "n=200" in stdout and "sgd" in stdout
    assert "1 seed," in stdout and "10 iterations" in stdout


# ---------------------------------------------------------------------- bad input, both commands
@pytest.mark.parametrize("argv, expected", [
    (["train", "--p", "1.5"], "--p=1.5 is out of range: expected a number from 0 to 0.95 "
                              "(at p = 1 no neuron survives and the scale 1/(1-p) is undefined)"),
    (["train", "--depth", "abc"], "--depth=abc is not valid: expected an integer from 1 to 8"),
    (["train", "--width", "2.5"], "--width=2.5 is not valid: expected an integer from 1 to 256"),
    (["train", "--n-train", "3"], "--n-train=3 is out of range: expected an integer from 4 to 2000"),
    (["train", "--every", "-1"], "--every=-1 is out of range: expected an integer from 0 to 1000000"),
    (["train", "--dataset", "digits", "--n-train", "1500"],
     "--n-train=1500 is out of range for digits: expected an integer from 4 to 1300"),
    (["experiment", "cost", "--p", "1.5"], "--p=1.5 is out of range: expected a number from 0 to 0.95 (at p = 1"),
    (["experiment", "cost", "--seeds", "0"], "--seeds=0 is out of range: expected an integer from 1 to 50"),
    (["experiment", "cost", "--seeds", "abc"], "--seeds=abc is not valid: expected an integer from 1 to 50"),
    (["experiment", "bogus"], "experiment='bogus' is not valid: expected one of 'p-sweep', 'data-size', "
                              "'mc-vs-scaling', 'sparsity', 'cost', 'regularizers'"),
    (["train", "--momentum", "1"], "--momentum=1 is out of range: expected a number from 0 to 0.99"),
    (["train", "--weight-decay", "-0.1"], "--weight-decay=-0.1 is out of range: expected a number from 0 to 1"),
    (["train", "--max-norm", "nan"], "--max-norm=nan is out of range: expected a number from 0 to 100"),
    (["experiment", "regularizers", "--max-norm", "x"],
     "--max-norm=x is not valid: expected a number from 0 to 100"),
])
def test_bad_input_exits_2_with_one_line_naming_the_flag_and_its_range(capsys, tmp_path, argv, expected):
    csv = ["--csv", str(tmp_path / "x.csv")] if argv[0] == "experiment" else []
    assert fails(capsys, *argv, *csv).startswith(f"dropviz: error: {expected}")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("argv", [["train"], ["experiment", "cost", "--csv", "x.csv"]])
@pytest.mark.parametrize("bad, expected", [
    (["--steps", "0"], "--steps=0 is out of range: expected an integer from 1 to 1000000"),
    (["--steps", "2.5"], "--steps=2.5 is not valid: expected an integer from 1 to 1000000"),
    (["--preset", "Nope"], "--preset='Nope' is not valid: expected one of 'Overfitting without dropout', "
                           "'Too much dropout', 'Deep network'"),
    (["--dataset", "unknown"], "--dataset=unknown is not valid: expected one of moons, circles, xor, spiral, "
                               "gaussian, digits"),
])
def test_the_same_mistake_reads_the_same_in_both_commands(capsys, argv, bad, expected):
    assert fails(capsys, *argv, *bad) == f"dropviz: error: {expected}"


def test_the_python_api_words_a_count_like_the_command_line(capsys):
    from dropviz.experiments import p_sweep
    with pytest.raises(ValueError) as error:
        p_sweep(Config(), steps=0)
    assert "--" + str(error.value) == fails(capsys, "train", "--steps", "0").removeprefix("dropviz: error: ")


@pytest.mark.parametrize("argv, expected", [
    (["train", "--lr"], "argument --lr: expected one argument"),
    (["train", "--bogus", "3"], "unrecognized arguments: --bogus 3; allowed flags: --activation, --batch-size"),
    (["train", "--seeds", "3"], "unrecognized arguments: --seeds 3; allowed flags:"),
    (["bogus"], "invalid choice: 'bogus' (choose from 'train', 'experiment')"),
    ([], "the following arguments are required: {train,experiment}"),
])
def test_argparse_mistakes_are_one_line_too(capsys, argv, expected):
    assert expected in fails(capsys, *argv)


@pytest.mark.parametrize("where, why", [
    ("missing/dir/x.csv", "cannot be written (No such file or directory)"),
    (".", "is a folder"),
    ("", "is empty"),
    ("/proc/version", "cannot be written"),  # exists, looks writable to root, refuses every write
])
def test_experiment_refuses_an_unwritable_csv_before_training(capsys, tmp_path, where, why):
    if where == "/proc/version" and not Path(where).exists():
        pytest.skip("no /proc here")
    target = where if where.startswith("/") or not where.strip() else str(tmp_path / where)
    line = fails(capsys, "experiment", "cost", "--steps", "100000", "--csv", target)  # would take minutes
    assert line.startswith(f"dropviz: error: --csv={target!r} {why}")
    assert line.endswith("expected a file path in an existing, writable folder")


def test_the_csv_check_leaves_no_file_behind_and_an_existing_one_unchanged(capsys, tmp_path):
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_text("kept\n")
    for target in (new, old):  # a bad setting after the check stops the run before any training
        fails(capsys, "experiment", "cost", "--csv", str(target), "--dataset", "digits", "--n-train", "1500")
    assert not new.exists() and old.read_text() == "kept\n"


@pytest.mark.parametrize("text", ["-0", "-0.0", "-1e-400", "-0e5", "1e-320"])
def test_negative_zero_and_underflow_are_zero_on_the_command_line(capsys, tmp_path, text):
    status, out, err = run(capsys, f"--noise={text}", f"--p={text}", "--steps", "3", "--json")
    result = json.loads(out)
    assert status == 0 and result["config"]["noise"] == 0.0 and result["config"]["p"] == 0.0
    assert math.copysign(1, result["config"]["noise"]) == 1 and "p=0 " in Config(**result["config"]).label()
    out_csv = tmp_path / "x.csv"
    assert main(["experiment", "cost", f"--noise={text}", "--steps", "4", "--seeds", "1",
                 "--csv", str(out_csv)]) == 0
    assert len(pd.read_csv(out_csv)) > 0


def test_a_huge_flag_value_gives_a_short_line(capsys):
    line = fails(capsys, "train", "--p", "9" * 100_000)
    assert len(line) < 300 and "(100,000 characters)" in line and line.startswith("dropviz: error: --p=999")


def test_experiment_errors_name_the_flag(capsys, tmp_path, monkeypatch):
    """An experiment's own ValueError (`p=0 is out of range ...`) reaches the command line as `--p=0 ...`."""
    import dropviz.cli.experiment as command

    class Refuses:
        name, question = "cost", "?"

        def steps_from(self, preset_steps):
            return 10

        def run(self, cfg, **kwargs):
            raise ValueError("p=0 is out of range: the dropout arm needs p above 0 (up to 0.95)")
    monkeypatch.setitem(command.EXPERIMENTS, "cost", Refuses())
    line = fails(capsys, "experiment", "cost", "--csv", str(tmp_path / "x.csv"))
    assert line == "dropviz: error: --p=0 is out of range: the dropout arm needs p above 0 (up to 0.95)"


# ---------------------------------------------------------------------- progress bar and module layout
class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_redraws_in_place_on_a_terminal_and_writes_a_line_per_tenth_in_a_log():
    fractions = [i / 100 for i in range(101)]
    tty, log = Terminal(), io.StringIO()
    for stream in (tty, log):
        bar = ProgressBar(stream)
        for f in fractions:
            bar.update(f, f"step {f:.2f}")
        bar.close()
    assert tty.getvalue().count("\r") == len(fractions) and tty.getvalue().count("\n") == 1
    lines = log.getvalue().splitlines()
    assert [int(re.search(r"\] +(\d+)%", line).group(1)) for line in lines] == list(range(10, 101, 10))
    assert "\r" not in log.getvalue() and lines[-1].startswith("[" + "#" * 30 + "] 100%")


def test_cli_modules_import_downward_only():
    """__init__ -> train, experiment -> flags, datafile, progress: no cycle, no lazy import."""
    allowed = {"__init__": {"train", "experiment", "flags", "progress"}, "train": {"flags", "datafile", "progress"},
               "experiment": {"flags", "datafile", "progress"}, "flags": set(), "datafile": set(),
               "progress": set()}
    for path in (ROOT / "dropviz" / "cli").glob("*.py"):
        tree = ast.parse(path.read_text())
        local = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                local |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                assert node.col_offset == 0, f"{path.name}: a lazy import"
        assert local <= allowed[path.stem], f"{path.name} imports {local - allowed[path.stem]}"
