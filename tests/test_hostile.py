"""Hostile values: whatever a link or a command line carries, dropviz answers with one short sentence.

Properties (Hypothesis): every Config field and run count, read from any text through `Field.read`,
`Config.from_query` and the CLI parser, never raises anything but the one-line error; every warning
names its field and stays under 300 characters; negative zero and underflow read as 0.0; a warning shown
on a page escapes every Markdown character, so no link or image survives. AppTest runs the pages on the
worst cases found by hand (the issue's reproductions).
"""
import argparse
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dropviz.cli import build_parser
from dropviz.config import (
    FIELD,
    FIELDS,
    MARKDOWN_PUNCTUATION,
    RUN_FIELDS,
    WORD_JOINER,
    Config,
    bounded,
    literal,
    shown,
)
from dropviz.live import PAGE_KEY

ROOT = Path(__file__).resolve().parents[1]
APP, EXPERIMENTS = str(ROOT / "app.py"), str(ROOT / "app_pages" / "experiments.py")
NAMES = [f.name for f in FIELDS]
MAX_WARNING = 300

# text a link could carry: numbers near the edges, Markdown, HTML, huge and odd strings
hostile = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["-0", "-0.0", "-1e-400", "1e-320", "nan", "-inf", "1e309", "0x10", "1_0", " 0.5 ", "",
                     "[click here](http://example.invalid)", "![x](http://198.51.100.7/a.png)",
                     "<img src=http://198.51.100.7/a.png>", "http://example.invalid", "www.example.invalid",
                     "**bold** `code` $x^2$ :red[x] :material/home:", "'\"\\", "moons\nmoons"]),
    st.builds(lambda c, n: c * n, st.sampled_from(["9", "x", "[", "0."]), st.integers(200, 20_000)),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def unescape(markdown: str) -> str:
    """What CommonMark shows for text in which every ASCII punctuation character is backslash-escaped;
    fails if one is not (it could start a link, an image, emphasis, HTML, ...)."""
    out, i = [], 0
    while i < len(markdown):
        c = markdown[i]
        if c == "\\":
            assert i + 1 < len(markdown) and markdown[i + 1] in MARKDOWN_PUNCTUATION, markdown
            out.append(markdown[i + 1])
            i += 2
            continue
        assert c not in MARKDOWN_PUNCTUATION, (c, markdown)
        out.append(c)
        i += 1
    return ("".join(out)).replace(WORD_JOINER, "")  # the word joiners are invisible


# ---------------------------------------------------------------------- one checker for every value
@fast
@given(field=st.sampled_from(FIELDS + RUN_FIELDS), text=hostile)
def test_any_text_reads_as_a_valid_value_or_one_short_reason(field, text):
    value, problem = field.read(text)
    if problem:
        assert problem.startswith(("is not valid: expected", "is out of range: expected")) and len(problem) < 200
    else:
        field.check(value)
        if isinstance(value, float):
            assert math.isfinite(value) and math.copysign(1.0, value) == 1.0 or value < 0
            assert value == 0.0 or abs(value) >= 2.2250738585072014e-308  # no subnormals, no -0.0


@fast
@given(params=st.dictionaries(st.sampled_from(NAMES + ["speed", "bogus"]),
                              st.one_of(hostile, st.lists(hostile, min_size=0, max_size=4)), max_size=5))
def test_from_query_never_raises_and_every_warning_names_its_field_briefly(params):
    cfg, warnings = Config.from_query(params)
    assert isinstance(cfg, Config)
    for f in FIELDS:
        if isinstance(getattr(cfg, f.name), float):
            assert math.copysign(1.0, getattr(cfg, f.name)) == 1.0 or getattr(cfg, f.name) < 0
    named = {w.split("=")[0].split(" ")[0] for w in warnings}
    assert named <= set(params) and all(len(w) < MAX_WARNING for w in warnings), warnings


@fast
@given(name=st.sampled_from(FIELDS + RUN_FIELDS), text=hostile)
def test_the_cli_parser_gives_a_value_or_one_line_naming_the_flag(name, text):
    flag = "--" + name.name.replace("_", "-")
    parser = build_parser()
    command = "experiment" if name.name in ("seeds", "passes") else "train"
    sub = parser._subparsers._group_actions[0].choices[command]
    action = next((a for a in sub._actions if flag in a.option_strings), None)
    if action is None:
        return
    try:
        action.type(text)
    except argparse.ArgumentTypeError as err:
        line = str(err)
        assert line.startswith(f"{flag}=") and "\n" not in line.rstrip("\n") or "\n" in text
        assert len(line) < MAX_WARNING


@pytest.mark.parametrize("text", ["-0", "-0.0", "-1e-400", "-0e10", "  -0  ", "4.9e-324", "-4.9e-324"])
@pytest.mark.parametrize("name", ["noise", "p", "input_p"])
def test_negative_zero_and_underflow_are_zero_everywhere(text, name):
    field = FIELD[name]
    value, problem = field.read(text)
    assert not problem and value == 0.0 and math.copysign(1.0, value) == 1.0
    cfg, warnings = Config.from_query({name: text})
    assert not warnings and math.copysign(1.0, getattr(cfg, name)) == 1.0
    assert Config(**{name: -0.0}).to_query()[name] == "0"
    assert "p=-0" not in Config(p=-0.0).label()


def test_lr_below_its_range_after_underflow_is_refused_in_the_fields_words():
    assert FIELD["lr"].read("-1e-400")[1] == "is out of range: expected a number from 1e-05 to 100"


@pytest.mark.parametrize("params, used, warning", [
    ({"p": ["0.2", "bad"]}, 0.2, "p was given 2 times ('0.2', 'bad'); using p=0.2"),
    ({"p": ["bad", "0.3"]}, 0.3, "p was given 2 times ('bad', '0.3'); using p=0.3"),
    ({"p": ["0.2", "0.4"]}, 0.4, "p was given 2 times ('0.2', '0.4'); using p=0.4"),
    ({"p": ["x", "2"]}, 0.5, "p was given 2 times ('x', '2'); none is valid (expected a number from 0 to 0.95): "
                             "using the default p=0.5"),
])
def test_a_repeated_key_keeps_its_last_valid_value_and_says_so(params, used, warning):
    cfg, warnings = Config.from_query(params)
    assert cfg.p == used and warnings == [warning]


# ---------------------------------------------------------------------- shown as plain text, cut short
def test_shown_cuts_long_values_and_says_how_long_they_were():
    assert shown("abc") == "'abc'"
    assert shown("x" * 10_240) == "'" + "x" * 40 + "…' (10,240 characters)"
    assert shown("it's " * 20).endswith('…" (100 characters)')
    long = "speed='" + "a" * 1000 + "' is not valid"
    assert bounded(long) == "speed='" + "a" * 40 + "…' (1,000 characters) is not valid"


@fast
@given(value=hostile)
def test_a_warning_on_a_page_escapes_every_markdown_character(value):
    sentence = f"dataset={value!r} is not valid: expected one of moons"
    markdown = literal(sentence)
    assert unescape(markdown) == bounded(sentence)
    for address in ("\\:\\/\\/", "www\\.", "\\@"):  # every address broken by a word joiner: never linked
        assert markdown.count(address) == markdown.count(WORD_JOINER + address)
    assert "](" not in unescape(markdown.replace("\\]\\(", "")) or "\\]\\(" in markdown  # no bare link syntax
    assert len(bounded(sentence)) < MAX_WARNING


# ---------------------------------------------------------------------- the pages (AppTest)
def start(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def failures(at) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error if "went wrong" in e.value]


@pytest.mark.parametrize("text", ["-0", "-0.0", "-1e-400"])
def test_noise_minus_zero_plays_and_the_url_is_rewritten(text):
    at = start(noise=text, p="-0")
    assert not failures(at) and not at.warning
    live = at.session_state[PAGE_KEY].live
    assert math.copysign(1.0, live.cfg.noise) == 1.0 and live.cfg.p == 0.0
    assert at.query_params["noise"] == "0" and at.query_params["p"] == "0"
    at.button(key="step").click().run()
    at.run()
    assert not failures(at) and live.step_count == 1


@pytest.mark.parametrize("name", ["dataset", "noise", "speed", "present", "panel", "follow"])
def test_a_100_kb_parameter_gives_a_short_warning(name):
    at = start(**{name: "[x](http://example.invalid)" + "9" * 100_000})
    assert not failures(at)
    warnings = [unescape(w.value) for w in at.warning]  # as the page shows it
    assert len(warnings) == 1 and len(warnings[0]) < MAX_WARNING, warnings
    assert f"{name}=" in warnings[0] and "[x](http" in warnings[0].lower()  # the value itself, cut


@pytest.mark.parametrize("value", ["[click here](http://example.invalid)", "![x](http://198.51.100.7/a.png)",
                                   "<img src=http://198.51.100.7/a.png>", "http://example.invalid"])
def test_markdown_in_a_parameter_is_shown_as_typed(value):
    at = start(dataset=value)
    (warning,) = [w.value for w in at.warning]
    text = unescape(warning)  # every Markdown character escaped: CommonMark shows exactly this
    assert f"dataset={value!r} is not valid" in text


def test_the_experiments_page_keeps_the_last_valid_repeat_and_escapes_its_warnings():
    at = AppTest.from_file(EXPERIMENTS, default_timeout=30)
    at.query_params["p"] = ["0.2", "[x](http://example.invalid)"]
    at.query_params["noise"] = "-0"
    at.run()
    assert not at.exception
    warnings = [unescape(w.value) for w in at.warning if "URL parameter" in w.value]
    assert len(warnings) == 1 and "p was given 2 times" in warnings[0] and "using p=0.2" in warnings[0]
    assert re.search(r"n=40 .*p=0\.2 ", at.caption[0].value)


# ---------------------------------------------------------------------- runaway losses (finding 6)
@pytest.mark.parametrize("dataset", ["moons", "digits"])
def test_adam_at_lr_100_pauses_with_the_divergence_message(dataset):
    """The fuzzer's setup: Adam at lr 100 reached a test loss of 1.28e8 and kept playing. A loss past
    model.LOSS_LIMIT (1e4, finite or not) stops the run like NaN does."""
    from dropviz.live import LiveSession
    from dropviz.model import LOSS_LIMIT
    live = LiveSession(Config(dataset=dataset, optimizer="adam", lr=100.0))
    live.play()
    assert live.playing
    for _ in range(50):
        frame = live.tick()
        if live.diverged:
            break
    assert live.diverged and not live.playing
    assert frame.message.startswith("Training diverged after iteration")
    assert "lower the learning rate (now 100)" in frame.message
    assert max(row["test_loss"] for row in live.trainer.history) <= LOSS_LIMIT  # no 1e8 on the chart
