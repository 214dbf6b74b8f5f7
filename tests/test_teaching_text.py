"""Every text a user reads treats p as the drop probability: nothing is ever scaled "by p"."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# every file a user reads text from: the README, the pages, the package's Python and the live view's JavaScript
TEXTS = ["README.md", *sorted(str(p.relative_to(ROOT)) for d in ("app_pages", "dropviz") for pattern in ("*.py", "*.js")
                              for p in (ROOT / d).rglob(pattern))]
# "multiplied by p", "scaled down by p", "rescaled by a factor of p", "times p": wrong when p is the drop
# probability. A quoted phrase (the README naming what some texts say) is not a claim.
WRONG = re.compile(r'(?<!")\b(?:multipl\w*|(?:re)?scal\w*)\s+(?:down\s+|up\s+)?by\s+(?:a\s+factor\s+(?:of\s+)?)?p\b'
                   r'|\btimes\s+p\b', re.IGNORECASE)


def test_the_pattern_catches_the_usual_mistakes():
    for wrong in ("weights are multiplied by p at test time", "activations scaled down by p",
                  "rescaled by a factor of p", "outputs times p"):
        assert WRONG.search(wrong), wrong
    for right in ("multiplied by the keep probability 1-p (not by p)", "scaled by 1/(1-p)",
                  'some texts say "scaled down by p"', "multiplied by 1−p", "dropped with probability p"):
        assert not WRONG.search(right), right


@pytest.mark.parametrize("path", TEXTS)
def test_no_text_scales_by_p(path):
    text = " ".join((ROOT / path).read_text(encoding="utf-8").split())  # join wrapped lines
    assert not [m.group(0) for m in WRONG.finditer(text)]


# ---------------------------------------------------------------- the corrected claims of issue 11
def _read(path: str) -> str:
    return " ".join((ROOT / path).read_text(encoding="utf-8").split())


def _caption(name: str) -> str:
    from dropviz.figures.captions import CAPTIONS
    return " ".join(CAPTIONS[name].split())


def test_gradient_caption_says_what_is_exact_and_what_is_not():
    text = _caption("gradient")
    assert "zero gradient from this example" in text  # exact: this example's gradient
    assert "Not exact: the update" in text and "momentum or Adam" in text and "still change" in text
    assert "updates only the active neurons" not in text


def test_readme_intro_says_dropout_overfits_more_slowly_not_never():
    intro = _read("README.md").split("## Set up")[0]
    assert "overfit more slowly" in intro and "test loss rises too" in intro
    assert "keep its test loss low" not in intro


def test_when_it_helps_says_moderate_data_and_that_very_small_data_can_hurt():
    for text in (_caption("when"), _read("README.md")):
        assert "moderate amount of data" in text and "very small data" in text and "can hurt" in text
        assert "Large networks on small data" not in text


def test_conv_and_recurrent_layers_are_said_to_need_their_own_masks():
    from dropviz.lesson import STEPS
    for text in (_caption("where"), _read("README.md"), " ".join(STEPS[-1].text.split())):
        assert "channels or blocks" in text and ("shared across" in text or "share one mask across" in text)
    assert "applies to dense, convolutional and recurrent" not in _read("README.md")


def test_test_time_caption_is_exact_only_for_the_weighted_sum():
    text = _caption("test_time")
    assert "weighted sum equals its average" in text and "only approximates" in text
    assert "Monte-Carlo experiment measures" in text
    assert "the next layer gets what it got on average in training" not in text


def test_the_papers_p_is_said_to_be_the_retain_probability_in_the_app():
    text = _caption("notation")
    assert "RETAIN probability" in text and "p = 0.5 for hidden units and p = 0.8 for inputs" in text
    assert "input p = 0.2" in text and "notation=retain" in text
