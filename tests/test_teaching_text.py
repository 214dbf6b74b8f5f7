"""Every text a user reads treats p as the drop probability: nothing is ever scaled "by p"."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["README.md", "app_pages/live.py", "app_pages/experiments.py", "dropviz/live/live_view.js", "dropviz/config.py",
         "dropviz/presets.py", "dropviz/live/payload.py", "dropviz/experiments.py",
         "dropviz/figures_experiments.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "dropviz/figures").glob("*.py"))]
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
