"""Your own data: each bad file gets its one sentence, good files train, and the exports hold what they say."""
from __future__ import annotations

import io
import string
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropviz.cli import main
from dropviz.config import Config
from dropviz.export import HISTORY_COLUMNS, history_frame, rerun, rerun_of
from dropviz.live.session import LiveSession
from dropviz.upload import MAX_BYTES, DataFileError, read_table

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "three_classes.csv"
GOOD = "a,b,label\n" + "".join(f"{i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(8))


def wide(columns: int) -> str:
    header = ",".join(f"x{j}" for j in range(columns)) + ",label\n"
    return header + "".join(",".join(str(i + j) for j in range(columns)) + f",{i % 2}\n" for i in range(6))


BAD_FILES = {  # file -> the words its one sentence must hold
    "empty": (b"", "The file is empty"),
    "only blank lines": (b"\n\n  \n", "The file is empty"),
    "no header": (b"1,2,0\n3,4,1\n5,6,0\n7,8,1\n", "has no header row"),
    "non-numeric cell": (b"a,b,label\n1,2,x\n3,oops,y\n5,6,x\n7,8,y\n",
                         "The value 'oops' at row 3, column 'b' is not a finite number"),
    "missing value": (b"a,b,label\n1,2,x\n3,,y\n5,6,x\n7,8,y\n", "The value at row 3, column 'b' is missing"),
    "missing label": (b"a,b,label\n1,2,x\n3,4,\n5,6,x\n7,8,y\n", "row 3, column 'label' is missing"),
    "short row": (b"a,b,label\n1,2,x\n3,4\n5,6,x\n7,8,y\n", "row 3, column 'label' is missing"),
    "one class": (b"a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "Every row has the same class ('x'"),
    "11 classes": (("a,b,label\n" + "".join(f"{i},{i},{i % 11}\n" for i in range(22))).encode(),
                   "has 11 classes: expected 2 to 10"),
    "a class with one row": (b"a,b,label\n1,2,x\n3,4,x\n5,6,y\n7,8,y\n9,9,z\n", "Class 'z' has only 1 row"),
    "too many rows": (("a,b,label\n" + "1,2,x\n3,4,y\n" * 2501).encode(), "has 5,002 data rows: at most 5,000"),
    "too many columns": (wide(65).encode(),
                         "has 65 feature columns besides the label column 'label': expected 2 to 64"),
    "too few columns": (b"a,label\n1,x\n2,y\n3,x\n4,y\n", "has 1 feature column besides"),
    "not UTF-8": ("a,b,label\n1,2,\u00e9t\u00e9\n3,4,x\n".encode("latin-1"), "is not UTF-8 text"),
    "duplicate column": (b"a,a,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n",
                         "The column name 'a' appears twice in the header (columns 1 and 2)"),
    "header only": (b"a,b,label\n", "has a header but no data rows"),
    "infinite": (b"a,b,label\n1,2,x\n3,inf,y\n5,6,x\n7,8,y\n", "The value 'inf' at row 3, column 'b'"),
    "too large": (b"a,b,label\n" + b"1,2,x\n" * (MAX_BYTES // 6 + 1), "at most 5.0 MB is allowed"),
}


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".") and "Traceback" not in message, message


@pytest.mark.parametrize("name", BAD_FILES)
def test_each_bad_file_gets_its_sentence(name):
    raw, words = BAD_FILES[name]
    with pytest.raises(DataFileError) as err:
        read_table(raw)
    assert words in str(err.value)
    one_sentence(str(err.value))


def test_a_good_file_is_read_with_label_named_or_last():
    table = read_table(GOOD.encode())
    assert table.features == ("a", "b") and table.classes == ("no", "yes")
    assert list(table.y) == [0, 1] * 4
    moved = read_table(b"label,a,b\n0,1,2\n1,3,4\n0,5,6\n1,7,9\n")  # named `label`: wherever it stands
    assert moved.features == ("a", "b") and moved.x[3].tolist() == [7, 9]
    last = read_table(b"a,b,kind\n1,2,10\n3,4,2\n5,6,10\n7,8,2\n")  # else the last column, numeric classes in order
    assert last.label == "kind" and last.classes == ("2", "10") and list(last.y) == [1, 0, 1, 0]


def test_split_by_data_seed_keeps_every_class_and_standardises_with_training_rows_only():
    table = read_table(EXAMPLE.read_bytes())
    a, b, again = table.dataset(0), table.dataset(1), table.dataset(0)
    assert np.array_equal(a.x_test, again.x_test) and not np.array_equal(a.x_test, b.x_test)
    assert len(a.y_train) + len(a.y_test) == len(table.y) == 300
    assert set(a.y_test) == set(a.y_train) == {0, 1, 2}
    np.testing.assert_allclose(a.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(a.x_train.std(0), 1, atol=1e-5)
    assert abs(float(a.x_test.mean())) > 1e-4  # the test rows were not part of the statistics


cell = st.one_of(st.text(alphabet=string.printable, max_size=6), st.floats(allow_nan=True).map(str))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=1, max_size=5), min_size=0, max_size=8), st.binary(max_size=20))
def test_any_input_is_a_table_or_one_sentence(rows, junk):
    text = "\n".join(",".join(r) for r in rows)
    for raw in (text.encode(), junk, text.encode() + junk):
        try:
            table = read_table(raw)
        except DataFileError as err:
            one_sentence(str(err))
        else:
            assert 2 <= len(table.classes) <= 10 and 2 <= table.n_features <= 64
            assert np.isfinite(table.x).all() and len(table.x) == len(table.y) >= 4


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(2, 4), st.integers(2, 5), st.randoms(use_true_random=False))
def test_any_well_formed_table_reads_back(features, classes, per_class, rnd):
    rows = [[round(rnd.uniform(-1e6, 1e6), 3) for _ in range(features)] + [f"c{k}"]
            for k in range(classes) for _ in range(per_class)]
    df = pd.DataFrame(rows, columns=[f"f{j}" for j in range(features)] + ["label"])
    table = read_table(df.to_csv(index=False).encode())
    assert table.x.tolist() == [r[:-1] for r in rows]
    assert [table.classes[c] for c in table.y] == [r[-1] for r in rows]


# ---------------------------------------------------------------------- command line
def test_a_three_feature_three_class_file_trains_above_chance_from_the_cli(capsys):
    import json
    assert main(["train", "--data-file", str(EXAMPLE), "--steps", "300", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["test_acc"] > 0.6  # chance is 1/3
    assert "3 features, 3 classes" in result["data_file"]


@pytest.mark.parametrize("command", [["train"], ["experiment", "p-sweep", "--csv", "unused.csv"]])
def test_a_bad_data_file_exits_2_with_one_line(tmp_path, capsys, command):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD_FILES["non-numeric cell"][0])
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--data-file", str(bad)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dropviz: error: --data-file=") and "row 3, column 'b'" in err


def test_experiment_trains_on_the_data_file(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["experiment", "p-sweep", "--data-file", str(EXAMPLE), "--steps", "60", "--seeds", "1",
                 "--csv", str(out)]) == 0
    df = pd.read_csv(out)
    assert (df["test_acc"] > 0.5).all()  # three classes: a moons-trained net could not score this


def test_history_csv_has_a_row_per_iteration_with_the_twin_beside(tmp_path, capsys):
    out = tmp_path / "history.csv"
    assert main(["train", "--steps", "37", "--p", "0.3", "--history", str(out)]) == 0
    df = pd.read_csv(out)
    assert tuple(df.columns) == HISTORY_COLUMNS
    assert df["step"].tolist() == list(range(1, 38))
    assert (df["p"] == 0.3).all() and (df["twin_p"] == 0).all()
    live = LiveSession(Config(p=0.3))
    live.step(37)
    assert df["test_loss"].iloc[-1] == pytest.approx(live.frame.test_loss, abs=1e-12)
    assert df["twin_test_loss"].iloc[-1] == pytest.approx(live.twin.frame.test_loss, abs=1e-12)
    assert (df["test_loss"] != df["twin_test_loss"]).any()


def test_a_rerun_repeats_a_run_with_its_live_changes():
    live = LiveSession(Config(n_train=30))
    live.step(6)
    live.apply(live.cfg.replace(p=0.1))
    live.step(4)
    live.apply(live.cfg.replace(lr=0.03, input_p=0.2))
    live.step(5)
    again, pairs = rerun_of(live)
    assert [f.step for f, _ in pairs] == list(range(1, 16))
    assert pairs[-1][0].test_loss == live.frame.test_loss and pairs[-1][1].test_loss == live.twin.frame.test_loss
    assert again.p_changes == live.p_changes == [(6, 0.1)]
    history = history_frame(pairs)
    assert history["p"].tolist() == [0.5] * 6 + [0.1] * 9
    _, last = rerun(live.start_cfg, None, 15, live.live_changes, keep_from=11)
    assert [f.step for f, _ in last] == [11, 12, 13, 14, 15]


def test_replay_file_holds_the_last_iterations_and_no_address(tmp_path, capsys):
    out = tmp_path / "replay.html"
    assert main(["train", "--steps", "30", "--replay", str(out), "--replay-last", "12"]) == 0
    html = out.read_text(encoding="utf-8")
    import json
    import re
    data = json.loads(re.search(r'id="replay-data">(.*?)</script>', html, re.S).group(1).replace("<\\/", "</"))
    assert [f["step"] for f in data["frames"]] == list(range(19, 31))
    assert not re.search(r"(src|href)=|https?://(?!www\.w3\.org/2000/svg)|fetch\(|XMLHttpRequest|import\(", html)


def test_an_upload_lives_in_its_own_session_only():
    table = replace(read_table(EXAMPLE.read_bytes()), name="three_classes.csv")
    mine, theirs = LiveSession(Config()), LiveSession(Config())
    mine.use_table(table)
    assert mine.data.n_inputs == 3 and mine.data.n_classes == 3
    assert mine.label().startswith("three_classes.csv 2x128") and mine.runs()[-2]["label"] == mine.label()
    assert theirs.data.n_inputs == 2 and theirs.table is None
    assert LiveSession(Config()).data.n_inputs == 2
    mine.use_table(None)
    assert mine.data.n_inputs == 2


def test_the_example_file_is_in_the_documented_format():
    df = pd.read_csv(io.BytesIO(EXAMPLE.read_bytes()))
    assert list(df.columns)[-1] == "label" and df.shape[1] == 4 and df["label"].nunique() == 3


def test_app_downloads_before_and_after_training():
    from dropviz.live import own_data
    live = LiveSession(Config(n_train=20))
    assert "Iteration 0" in own_data.replay_file(live)  # before any iteration: the untrained network
    assert own_data.history_file(live).strip() == ",".join(HISTORY_COLUMNS)
    live.step(3)
    assert len(own_data.history_file(live).strip().splitlines()) == 4
    assert own_data.data_panel(live)[0] == "boundary"
    live.use_table(read_table(EXAMPLE.read_bytes()))
    assert own_data.data_panel(live)[0] == "projection"
    two_by_three = read_table(b"a,b,label\n" + b"".join(b"%d,%d,%d\n" % (i, i * i % 7, i % 3) for i in range(9)))
    live.use_table(two_by_three)  # two features but three classes: the boundary of class 1 alone would mislead
    assert own_data.data_panel(live)[0] == "projection"
