"""dropviz: see dropout mask, rescale and regularize a network as it trains."""
from .config import FIELDS, Config
from .frame import Frame, LayerFrame
from .trainer import Trainer

__all__ = ["Config", "Trainer", "Frame", "LayerFrame", "FIELDS"]
