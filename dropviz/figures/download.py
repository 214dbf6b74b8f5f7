"""Each Plotly panel's own toolbar: the download button alone, drawn by Plotly in the browser (nothing is
installed on the server). Plotly's button saves one format; the page lets the visitor choose PNG or SVG."""
from __future__ import annotations

FORMATS = ("png", "svg")  # PNG for slides, SVG (vector) for papers
PNG_SCALE = 2  # twice the panel's pixels: sharp on a projector and in print


def plot_config(name: str, fmt: str = "png") -> dict:
    """st.plotly_chart's `config`: only the download button, saving `name`.png or `name`.svg."""
    fmt = fmt if fmt in FORMATS else FORMATS[0]
    return {"displaylogo": False, "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": fmt, "filename": f"dropviz-{name}", "scale": PNG_SCALE if fmt == "png"
                                     else 1}}
