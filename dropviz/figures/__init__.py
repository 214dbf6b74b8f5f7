"""Pure figure functions: engine state (Frame, history, Dataset) in, plotly Figure out. No Streamlit."""
from .boundary import boundary_figure, grid
from .captions import CAPTIONS
from .curves import curves_figure
from .digits import digits_figure
from .gradient import gradient_figure
from .projection import projection_figure
from .rescale import rescale_figure

__all__ = ["rescale_figure", "gradient_figure", "boundary_figure", "grid", "digits_figure", "curves_figure",
           "projection_figure", "CAPTIONS"]
