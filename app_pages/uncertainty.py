"""The "MC dropout as approximate Bayesian inference" section: layout and wiring only. The work is
dropviz.uncertainty.predictive, the chart dropviz.figures.uncertainty. A page calls `section()`."""
from __future__ import annotations

import streamlit as st

from dropviz import notation as notation_rule
from dropviz.figures.download import plot_config
from dropviz.figures.uncertainty import uncertainty_figure
from dropviz.uncertainty import SETTINGS, Predictive, predictive

P_CHOICES = (0.1, 0.2, 0.3, 0.5)

CAPTION = ("Gal & Ghahramani (2016): training with dropout approximates Bayesian inference over the weights. "
           "Keep dropout on at test time, run the network T times and read the mean as the prediction and the "
           "spread (std) as the model's uncertainty; the data's own noise is not included. Here the spread is "
           "wider in the gap, where there is no data, than on the data. It is an approximation: its size "
           "follows p and the network as much as the data (beyond the ends this network turns flat and sure "
           "of itself), so read it as a warning sign, not a calibrated error bar.")


@st.cache_data(show_spinner=False, max_entries=len(P_CHOICES))
def _result(p: float) -> Predictive:
    return predictive(SETTINGS.replace(p=p))


def section(notation: str = notation_rule.DROP) -> None:
    """notation: how p is written (dropviz.notation); the slider always holds the drop probability."""
    st.header("3 · Monte-Carlo dropout as approximate Bayesian inference")
    p = st.select_slider(notation_rule.title(notation), P_CHOICES, value=SETTINGS.p, key="w_uncertainty_p",
                         format_func=lambda q: f"{notation_rule.shown(q, notation):g}",
                         help="Each choice trains its own network once (a few seconds).")
    with st.spinner(f"Training a network with {notation_rule.text(p, notation)} on 40 points and taking 100 "
                    "passes…"):
        result = _result(p)
    st.plotly_chart(uncertainty_figure(result, notation=notation), config=plot_config("uncertainty"), width="stretch")
    st.caption(CAPTION)
