import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # so plain `pytest` finds dropviz too
# The test networks are tiny: threads only add overhead, and the CI machine is shared.
torch.set_num_threads(1)

# AppTest sessions that press Play never pause or leave: without this, a long test run could reach the
# server's cap on runs playing at once (dropviz/live/session.py; its own test sets the cap it tests)
os.environ.setdefault("DROPVIZ_MAX_PLAYING", "1000")
