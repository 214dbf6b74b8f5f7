import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # so plain `pytest` finds dropviz too
# The test networks are tiny: threads only add overhead, and the CI machine is shared.
torch.set_num_threads(1)
