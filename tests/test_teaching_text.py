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
