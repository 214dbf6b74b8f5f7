"""Why dropout works: layout and wiring only. The computations are dropviz.ensemble, the charts
dropviz.figures.ensemble and dropviz.figures.features, the words dropviz.figures.captions.

1. An ensemble of thinned networks: a trained moons run's K = 8 thinned networks, their average and the single
   weight-scaled test-time pass, with the measured gap.
2. Co-adaptation (the 2014 paper's Fig 7): a digits run's first-layer weights as 8x8 images beside its p = 0
   twin's, with two measures; and per-layer guidance, with input dropout shown on a digit.
3. MC dropout and uncertainty (Gal & Ghahramani 2016): app_pages/uncertainty.py.

Each section's runs are trained once per server and Config (st.cache_data on the results), so the page is quick
after its first visit.
"""
from __future__ import annotations

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages import notation_view, uncertainty  # noqa: E402
from app_pages.guard import run_page  # noqa: E402
from dropviz import ensemble  # noqa: E402
from dropviz import notation as notation_rule  # noqa: E402
from dropviz.config import Config, literal  # noqa: E402
from dropviz.figures.captions import CAPTIONS  # noqa: E402
from dropviz.figures.download import plot_config  # noqa: E402
from dropviz.figures.ensemble import average_figure, thinned_figure  # noqa: E402
from dropviz.figures.features import features_figure, input_dropout_figure  # noqa: E402

K = 8                # thinned networks drawn
K_MEASURED = 100     # thinned networks averaged for the measured gap: 8 alone are a noisy average
GRID = 60            # points per side of the plane's grid
# A moons run that fits without memorising (the 2x64 network on 100 noisy points), and a digits run with the
# paper's per-layer rates: inputs 0.2, hidden units 0.5.
ENSEMBLE_RUN = Config(dataset="moons", n_train=100, noise=0.3, depth=2, width=64, p=0.5, lr=0.1, seed=0)
ENSEMBLE_STEPS = 1000
FEATURES_RUN = Config(dataset="digits", n_train=1000, noise=0.0, depth=1, width=64, p=0.5, input_p=0.2,
                      optimizer="adam", lr=0.003, seed=0)
FEATURES_STEPS = 1000
P_CHOICES = (0.2, 0.5, 0.8)  # drop probabilities offered for the ensemble's run
CSS = """<style>
.stMain p, .stMain li { font-size: 1.2rem; }
.stMain [data-testid="stCaptionContainer"], .stMain [data-testid="stCaptionContainer"] p {
  font-size: 1.1rem; color: #3a3a3a !important; opacity: 1 !important; }
</style>"""


@st.cache_data(show_spinner="Training the moons run and drawing its thinned networks…", max_entries=8)
def ensemble_view(cfg: Config, steps: int) -> ensemble.EnsembleStudy:
    return ensemble.ensemble_study(cfg, steps, K, K_MEASURED, GRID)


@st.cache_data(show_spinner="Training the digits run and its p = 0 twin…", max_entries=4)
def features_view(cfg: Config, steps: int) -> ensemble.FeaturesStudy:
    return ensemble.features_study(cfg, steps)


def plot(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=plot_config(f"why-{key}"), width="stretch")


def ensemble_section(notation: str) -> None:
    st.header("1 · Many networks in one: the ensemble of thinned networks")
    st.markdown(CAPTIONS["ensemble"])
    p = st.segmented_control(notation_rule.title(notation), P_CHOICES, default=ENSEMBLE_RUN.p, key="why_p",
                             format_func=lambda q: f"{notation_rule.shown(q, notation):g}") or ENSEMBLE_RUN.p
    cfg = ENSEMBLE_RUN.replace(p=p)
    view = ensemble_view(cfg, ENSEMBLE_STEPS)
    shown, gap, many = view.shown, view.gap, view.gap_many
    st.caption(f"One run on {cfg.dataset} ({cfg.n_train} noisy training points, {cfg.depth} hidden layers of "
               f"{cfg.width}, {notation_rule.text(p, notation)}, {cfg.optimizer} lr {cfg.lr:g}, seed {cfg.seed}), "
               f"trained {ENSEMBLE_STEPS} iterations; the thinned networks use its weights as they are now.")
    plot(thinned_figure(view.data, view.grid_x, view.grid_y, shown.probs, shown.kept, view.thinned_acc, view.extent),
         "why_thinned")
    plot(average_figure(view.data, view.grid_x, view.grid_y, shown.average, shown.scaled, view.extent, K,
                        view.acc_average, view.acc_scaled, gap.disagree), "why_average")
    st.markdown(
        f"**Measured gap.** The average of these {K} thinned networks and the single test-time pass predict "
        f"different classes on {gap.disagree:.1%} of the plane; their probabilities differ by "
        f"{gap.mean_abs:.3f} on average (at most {gap.max_abs:.2f}). Test accuracy: average of {K} "
        f"{view.acc_average:.1%}, weight scaling {view.acc_scaled:.1%}. With {K_MEASURED} thinned networks "
        f"the average is steadier: {many.disagree:.1%} of the plane differs, mean difference {many.mean_abs:.3f}, "
        f"test accuracy {view.acc_many:.1%}. Weight scaling is a close, cheap approximation of the ensemble, "
        "not the ensemble itself.")


def features_section(notation: str) -> None:
    st.header("2 · No co-adaptation: features that work on their own")
    st.markdown(CAPTIONS["coadaptation"])
    view = features_view(FEATURES_RUN, FEATURES_STEPS)
    run, twin = view.run, view.twin
    rates = (f"{notation_rule.text(FEATURES_RUN.p, notation)}, "
             f"{notation_rule.text(FEATURES_RUN.input_p, notation, 'input')}")
    plot(features_figure([(f"dropout ({rates})", run), (f"twin ({notation_rule.text(0.0, notation)})", twin)]),
         "why_features")
    st.markdown(coadaptation_verdict(run, twin, view.start))
    cfg = FEATURES_RUN
    st.caption(f"Both: {cfg.n_train} training digits, one hidden layer of {cfg.width} {cfg.activation} units, "
               f"{cfg.optimizer} lr {cfg.lr:g}, seed {cfg.seed}, {FEATURES_STEPS} iterations; the first 16 units "
               "shown, each to its own colour scale (red positive, blue negative).")

    st.subheader("Per layer: how much to drop where")
    st.markdown(CAPTIONS["per_layer"])
    plot(input_dropout_figure(view.digit, view.thinned, view.shape, FEATURES_RUN.input_p,
                              notation_rule.text(FEATURES_RUN.input_p, notation, "input")), "why_input")


def coadaptation_verdict(run, twin, start) -> str:
    """The measured comparison in words, saying which way it went, whatever it is (start: both arms' shared
    initial weights, for scale)."""
    local = "more" if run.top_energy > twin.top_energy else "not more"
    smooth = "smoother" if run.roughness < twin.roughness else "not smoother"
    return (f"**Measured** over all {len(run.images)} units: with dropout a unit puts {run.top_energy:.0%} of its "
            f"squared weight in its 8 largest pixels, against {twin.top_energy:.0%} without ({local} local); "
            f"roughness (neighbouring-pixel differences over total weight) {run.roughness:.2f} against "
            f"{twin.roughness:.2f} ({smooth}); the shared random start had {start.top_energy:.0%} and "
            f"{start.roughness:.2f}. On 8x8 digits with 64 units the pictures differ less than the paper's 28x28 "
            "MNIST features; the numbers are the evidence here.")


def main() -> None:
    st.set_page_config(page_title="dropviz: why dropout works", layout="wide")
    notation, warnings = notation_view.current()
    notation_view.write_url(notation)
    for warning in warnings:
        st.warning(literal(f"URL parameter ignored: {warning}."))
    st.html(CSS)
    st.title("Why dropout works")
    st.caption(CAPTIONS["notation"])
    ensemble_section(notation)
    features_section(notation)
    uncertainty.section(notation)
    st.caption(CAPTIONS["when"] + " " + CAPTIONS["where"])


def why_page() -> None:
    run_page(main)


if __name__ == "__main__":
    why_page()
