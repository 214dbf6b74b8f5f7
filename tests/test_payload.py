"""What the browser's live view is sent: the engine's masks and metrics, in the words, colours and line
styles of the Plotly figures. Its JavaScript only draws: it holds no English and no colour of its own."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dropviz import Config
from dropviz.dropout import factor_text, multipliers
from dropviz.figures import curves_figure, rescale_figure
from dropviz.figures.labels import GAP_TIE, gap_text, gap_verdict, layer_lines
from dropviz.figures.style import PALETTE, RUN_STYLES
from dropviz.history import thin
from dropviz.live.payload import MAX_POINTS, curves_payload, frame_text, live_payload, payload_text
from dropviz.live.session import LiveSession

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "dropviz" / "live" / "live_view.js"
SMALL = Config(n_train=40, width=16, depth=2, batch_size=16)


def hidden(frame_payload):
    return frame_payload["columns"][1:-1]


def test_payload_masks_are_the_frames_masks_and_test_time_drops_nothing():
    live = LiveSession(SMALL.replace(width=20, p=0.5))
    live.play()
    pairs = live.play_frames(3)
    sent = live_payload(live, pairs)
    assert [f["step"] for f in sent["frames"]] == [f.step for f, _ in pairs]
    assert [f["counter"] for f in sent["frames"]] == [f"Iteration {f.step}" for f, _ in pairs]
    for shown, (frame, _) in zip(sent["frames"], pairs):
        for layer, lf in zip(hidden(shown), frame.layers):
            dropped = int((~lf.mask).sum())
            assert layer["keep"] == [int(k) for k in lf.mask[:12]] and layer["n_dropped"] == dropped
            assert layer["notes"][:2] == ["+8 more", f"{dropped} of 20 dropped"]
            assert layer["lines"] == ["p = 0.5", "×2.00"]
            assert layer["act"] == [round(float(v), 3) for v in lf.pre[:12]]
    test = live_payload(live, pairs, test_time=True)["frames"][-1]
    assert all(layer["keep"] == [1] * 12 and layer["lines"] == ["all active", "×1"] for layer in hidden(test))
    assert all(layer["notes"][1] == "none dropped" for layer in hidden(test))


def test_payload_headers_in_classic_mode_scale_by_keep_probability_at_test_time():
    live = LiveSession(SMALL.replace(mode="classic", p=0.25, input_p=0.1))
    train = live_payload(live)["frames"][0]["columns"]
    test = live_payload(live, test_time=True)["frames"][0]["columns"]
    assert train[1]["lines"] == ["p = 0.25", "×1 (test ×0.75)"]
    assert test[1]["lines"] == ["all active", "×0.75 = 1−p"]
    # the inputs follow the same rule: classic mode multiplies them by 1 - input_p at test time
    assert train[0]["lines"] == ["input p = 0.1", "×1 (test ×0.90)"]
    assert test[0]["lines"] == ["all kept", "×0.90 = 1−input p"]


@pytest.mark.parametrize("mode", ["inverted", "classic"])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_every_layer_label_is_the_dropout_rule(mode, p):
    m = multipliers(p, mode)
    train, test = layer_lines(p, mode, False), layer_lines(p, mode, True)
    assert train[0] == f"p = {p:g}" and train[1].startswith(factor_text(m.train))
    assert test[1].startswith(factor_text(m.test))
    assert (f"test {factor_text(m.test)}" in train[1]) == (m.test != 1)


def test_compact_diagram_says_p_and_factor_once_for_all_layers():
    live = LiveSession(SMALL.replace(depth=6, width=64, p=0.2))
    live.step(1)
    shown = live_payload(live)["frames"][0]
    assert shown["compact"] and shown["shared"] == "every hidden layer: p = 0.2, ×1.25"
    assert shown["shared_note"] == "dropped this iteration, of 64 per layer · first 12 neurons drawn"
    for layer, lf in zip(hidden(shown), live.frame.layers):
        assert layer["lines"] == ["", ""] and layer["notes"] == [str(int((~lf.mask).sum())), "", ""]
    assert not live_payload(LiveSession(SMALL))["frames"][0]["compact"]


def test_output_and_input_texts():
    live = LiveSession(SMALL)
    live.step(2)
    shown = live_payload(live)["frames"][0]
    out, frame = shown["columns"][-1], live.frame
    assert out["labels"][frame.y].endswith("← true") and out["label"] == frame.y
    assert out["best"] == int(np.argmax(frame.output)) and out["notes"][0] == "never dropped"
    assert shown["columns"][0]["labels"] == [f"x{i + 1} = {v:.2f}" for i, v in enumerate(frame.x)]
    assert shown["metrics"] == f"test loss {frame.test_loss:.3f} · test accuracy {100 * frame.test_acc:.0f}%"
    digits = live_payload(LiveSession(Config(dataset="digits", n_train=60, width=8, depth=1)))["frames"][0]
    assert digits["image"] and digits["columns"][0]["notes"][0] == "8×8 image"
    assert digits["columns"][-1]["labels"][3].startswith("3 ")


def test_curves_payload_has_main_twin_and_ghost_series():
    live = LiveSession(SMALL)
    live.step(2)
    live.apply(SMALL.replace(depth=1))
    live.step(2)
    live.apply(live.cfg.replace(p=0.1))
    curves = curves_payload(live)
    runs = [(s["run"], s["name"]) for s in curves["series"]]
    assert runs == [("ghost", "test"), ("ghost", "train"), ("main", "test"), ("main", "train"),
                    ("twin", "test"), ("twin", "train")]
    assert [(m["step"], m["text"]) for m in curves["markers"]] == [(2, "p → 0.1")]
    main_test = curves["series"][2]
    assert main_test["y"] == [round(h["test_loss"], 4) for h in live.trainer.history]
    # the earlier run is named in the legend (faded swatch), not by a label over the curves
    ghosts = [item for item in curves["legend"] if item["opacity"] < 1]
    assert len(ghosts) == 1 and ghosts[0]["text"].startswith("earlier: ") and "label" not in curves["series"][0]
    live.clear_ghosts()
    assert [s["run"] for s in curves_payload(live)["series"]] == ["main", "main", "twin", "twin"]
    assert not [item for item in curves_payload(live)["legend"] if item["opacity"] < 1]


def test_thin_keeps_points_in_place_and_the_last_one():
    history = [{"step": i} for i in range(1000)]
    rows = thin(history, MAX_POINTS)
    assert len(rows) <= MAX_POINTS and rows[-1]["step"] == 999
    assert all(r["step"] % 8 == 0 for r in rows[:-1])
    assert thin(history[:10], MAX_POINTS) == history[:10]
    assert np.all(np.diff([r["step"] for r in rows]) > 0)


def test_payload_says_when_a_new_p_applies_while_paused():
    live = LiveSession(SMALL)
    live.step(2)
    live.apply(SMALL.replace(p=0.3))
    shown = live_payload(live)["frames"][0]
    assert hidden(shown)[0]["lines"] == ["p = 0.5", "×2.00"]  # what this (older) frame used
    assert shown["status"].endswith("p = 0.3 from the next iteration")
    live.step(1)
    shown = live_payload(live)["frames"][0]
    assert hidden(shown)[0]["lines"] == ["p = 0.3", "×1.43"] and "next iteration" not in shown["status"]


# ---------------------------------------------------------------- one voice with the Plotly figures
def test_gap_verdict_is_one_rule():
    assert gap_text(0.303, 0.300) == "test loss, this run − twin: +0.003"  # about equal: no verdict
    assert gap_text(0.310, 0.300) == "test loss, this run − twin: +0.010 (twin better)"
    assert gap_text(0.280, 0.300) == "test loss, this run − twin: −0.020 (dropout better)"
    assert gap_text(0.3, 0.3) == "test loss, this run − twin: +0.000" and gap_text(float("nan"), 0.3) == ""
    assert gap_verdict(GAP_TIE / 2) == "" and gap_verdict(-2 * GAP_TIE) == "dropout better"


@pytest.fixture(scope="module")
def trained():
    """A session with a ghost, a p change and some training: every kind of curve and note."""
    live = LiveSession(SMALL)
    live.step(3)
    live.apply(SMALL.replace(depth=1))
    live.step(4)
    live.apply(live.cfg.replace(p=0.2))
    live.step(5)
    return live


def test_curves_say_what_the_plotly_curves_say(trained):
    live = trained
    sent = live_payload(live)
    curves, frame = sent["curves"], sent["frames"][0]
    fig = curves_figure(live.runs())
    notes = [a.text for a in fig.layout.annotations]
    assert frame["gap"] and frame["gap"] in notes
    assert [m["text"] for m in curves["markers"]] == [n for n in notes if n.startswith("p → ")][::2]
    assert curves["title"] in [re.sub("<[^>]+>", "", n) for n in notes]  # the same words, partly bold
    assert curves["subtitle"] == fig.layout.title.subtitle.text
    assert curves["x_title"] == fig.layout.xaxis.title.text
    # each run's title, each curve's name, colour and line
    plotly_lines = [t for t in fig.data if t.yaxis == "y"]  # the loss panel, in the same order
    assert len(plotly_lines) == len(curves["series"])
    for sent_line, trace in zip(curves["series"], plotly_lines):
        assert sent_line["name"] == trace.name and sent_line["color"] == trace.line.color
        assert sent_line["width"] == trace.line.width and sent_line["opacity"] == trace.opacity
        style = RUN_STYLES[sent_line["run"]]
        assert sent_line["dash"] == style.svg_dash and trace.line.dash == style.plotly(trace.line.color)["dash"]
        if sent_line["run"] == "ghost":  # its title, cut short in the payload, is in the live legend
            title = trace.legendgrouptitle.text.replace("<br>", " ")
            assert any(item["text"] == title or title.startswith(item["text"].rstrip("…"))
                       for item in curves["legend"])
    titles = {t.legendgrouptitle.text for t in fig.data}
    assert [item["text"] for item in curves["legend"][2:4]] == [t for t in ("this run (dropout, p = 0.2)",
                                                                          "twin without dropout (p = 0)")
                                                                if t in titles]
    assert [item["text"] for item in curves["legend"][:2]] == ["test", "train"] == [t.name for t in fig.data[:4:2]]


def test_layer_factors_are_what_the_rescaling_panel_says():
    for mode, p in (("inverted", 0.5), ("classic", 0.25)):
        live = LiveSession(SMALL.replace(mode=mode, p=p))
        live.step(3)
        header = hidden(live_payload(live)["frames"][0])[0]["lines"]
        test_header = hidden(live_payload(live, test_time=True)["frames"][0])[0]["lines"]
        fig = rescale_figure(list(live.recent), 0, mode)
        words = " ".join([fig.layout.title.subtitle.text, *(a.text for a in fig.layout.annotations)])
        m = multipliers(p, mode)
        assert factor_text(m.train) in header[1] and factor_text(m.train) in words
        assert test_header[1].startswith(factor_text(m.test))
        if mode == "classic":  # the panel shows the test-time factor in classic mode only
            assert f"{factor_text(m.train)})" in words and f"= {factor_text(m.test)} at test time" in words


def test_one_palette():
    sent = live_payload(LiveSession(SMALL))
    assert sent["look"]["colors"] == PALETTE
    fig = curves_figure(LiveSession(SMALL).runs())
    assert {t.line.color for t in fig.data} == {PALETTE["test"], PALETTE["train"]}


# ---------------------------------------------------------------- the JavaScript only draws
def js_literals(code: str) -> tuple[list[str], str]:
    """The string literals and the text parts of template literals, and the code without its comments."""
    found, kept, i, n = [], [], 0, len(code)
    while i < n:
        if code.startswith("//", i):
            i = code.find("\n", i) if "\n" in code[i:] else n
        elif code.startswith("/*", i):
            i = code.index("*/", i) + 2
        elif code[i] in "\"'":
            j = i + 1
            while code[j] != code[i]:
                j += 2 if code[j] == "\\" else 1
            found.append(code[i + 1:j])
            kept.append(code[i:j + 1])
            i = j + 1
        elif code[i] == "`":
            j, part = i + 1, ""
            while code[j] != "`":
                if code.startswith("${", j):  # an expression: skip it, up to its closing brace
                    found.append(part)
                    part, depth, j = "", 1, j + 2
                    while depth:
                        depth += {"{": 1, "}": -1}.get(code[j], 0)
                        j += 1
                else:
                    part += code[j]
                    j += 1
            found.append(part)
            kept.append(code[i:j + 1])
            i = j + 1
        else:
            kept.append(code[i])
            i += 1
    return [s for s in found if s], "".join(kept)


# The only words the JavaScript may spell out: SVG and DOM names, and the names of its own data.
TECHNICAL = {"anchor", "aria", "circle", "counter", "curves", "dasharray", "data", "diagram", "div", "dropviz",
             "end", "family", "fill", "font", "ghost", "hidden", "http", "img", "iteration", "label", "line",
             "linejoin", "live", "middle", "none", "opacity", "org", "path", "points", "polyline", "ready", "rect",
             "rgb", "round", "size", "start", "stroke", "svg", "testid", "text", "transform", "translate",
             "visibility", "visible", "weight", "width", "www",
             # the pulled playback: its trigger, the key events and buttons that stop it, resizing
             "pull", "present", "tspan", "dy", "key", "play", "pause", "step", "reset", "st", "button", "hold",
             "string",  # typeof: the payload comes as JSON text
             "pointerdown", "click", "resize",
             # honest faults: the tab's visibility, Streamlit's connection status, the notices' keys (their
             # words come in the payload), the tab's memory of its last iteration
             "visibilitychange", "stConnectionStatus", "disconnected", "reloaded", "restarted", "null"}


def test_js_literal_finder():
    lits, code = js_literals('const a = "x y"; // "not this"\nf(`p = ${v} more`, \'z\'); /* "nor this" */')
    assert lits == ["x y", "p = ", " more", "z"] and "not this" not in code and "nor this" not in code


def test_the_javascript_holds_no_words_of_its_own():
    literals, code = js_literals(JS.read_text(encoding="utf-8"))
    words = {w for s in literals for w in re.findall(r"[A-Za-z]+", s) if len(w) > 1}
    assert words <= TECHNICAL, sorted(words - TECHNICAL)
    assert not [s for s in literals if re.search(r"[^\x00-\x7f]", s)]  # no ×, →, ←, ·, ✕ either
    for phrase in ("dropped", "twin", "test loss", "never", "iteration ", "Iteration", "accuracy", "kept"):
        assert phrase not in " ".join(literals), phrase


def test_the_javascript_has_no_colour_of_its_own():
    _, code = js_literals(JS.read_text(encoding="utf-8"))  # literals kept, comments dropped
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", code)
    assert not re.findall(r"\b(?:rgba?|hsla?)\(\s*\d", code)  # rgb(...) only from the payload's numbers
    assert not re.findall(r"['\"](?:white|black|red|gr[ae]y|orange|blue)['\"]", code)


def test_the_live_package_imports_no_streamlit_except_its_component():
    code = ("import sys, dropviz.live, dropviz.live.session, dropviz.live.payload, dropviz.live.page_state; "
            "assert 'streamlit' not in sys.modules, 'streamlit imported'")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    components = sorted(f.relative_to(ROOT / "dropviz").as_posix() for f in (ROOT / "dropviz").rglob("*.py")
                        if "import streamlit" in f.read_text())
    # the three Streamlit components, each with its JavaScript: the live view, the keys, the Variants view
    assert components == ["live/component.py", "live/keys.py", "variants/component.py"]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(), lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@given(frames=st.lists(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4), max_size=5),
       rest=st.dictionaries(st.text(max_size=8).filter(lambda k: k != "frames"), JSON_VALUES, max_size=4),
       pre_encoded=st.booleans())
def test_the_payload_text_is_the_payload(frames, rest, pre_encoded):
    """What the live view parses is the payload itself, whether its frames were encoded before (a class's
    followers get the teacher's texts) or here."""
    payload = {"frames": frames, **rest}
    texts = [frame_text(f) for f in frames] if pre_encoded else None
    assert json.loads(payload_text(payload, texts)) == payload
