"""Variants page: layout and wiring only. Dropout in conv and recurrent nets, and DropConnect, on 8x8 digits.

Data flows widgets -> Settings (dropviz/variants/settings.py, also the URL) -> Pair (a variant and its p = 0
twin, dropviz/variants/run.py) -> VariantFrame -> figures (dropviz/figures/variants.py). Play sets a flag
and the panels' fragment reruns on a timer, a few iterations per tick; Pause reruns the page with the
flag off, so the fragment loses its timer at once. Paused, nothing runs.
"""
from __future__ import annotations

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages.guard import run_page  # noqa: E402
from dropviz.config import FIELD, literal  # noqa: E402
from dropviz.figures import variants as fv  # noqa: E402
from dropviz.figures.download import plot_config  # noqa: E402
from dropviz.variants.nets import FAMILIES  # noqa: E402
from dropviz.variants.run import TICK_STEPS, Pair, Spec  # noqa: E402
from dropviz.variants.settings import BLOCK_SIZES, Settings, from_query  # noqa: E402

TICK_SECONDS = 0.4
FAMILY_LABELS = {"conv": "Convolutional", "recurrent": "Recurrent (RNN)", "dense": "Dense: DropConnect"}
TEACHING = {
    "conv": "Neighbouring positions of a feature map carry nearly the same signal, so dropping single positions "
            "barely hides anything: the next layer reads it from the neighbours. Channel dropout (Tompson et al. "
            "2015, PyTorch's Dropout2d) drops whole feature maps; DropBlock (Ghiasi et al. 2018) drops squares.",
    "recurrent": "The RNN reads the digit row by row: 8 steps of 8 pixels. A fresh mask at every step (naive) "
                 "hits the memory with new noise at each step. Variational dropout (Gal & Ghahramani 2016) draws "
                 "one mask per sequence and uses it at every step, on the inputs and on the recurrent state.",
    "dense": "DropConnect (Wan et al. 2013) drops single weights instead of whole units: each example its own "
             "mask over the weights. At test time the usual shortcut scales the mean (inverted: nothing to do), "
             "but a unit's input is then not the average over masks after the ReLU; the paper matches a Gaussian "
             "to the masked sum's mean and variance instead (moment matching).",
}


RESCALING = ("**Rescaling.** Dropping lowers a unit's mean input by the keep probability 1 - p. Inverted "
             "dropout (the default) multiplies the survivors by 1/(1-p) in training and changes nothing at test "
             "time; classic mode multiplies by 1 - p at test time instead. Either way the expected training "
             "signal equals the test-time one; a single mask, as drawn here, only on average.")


def settings() -> Settings:
    """The sidebar's settings; the first run of a session reads the URL (bad values: one warning each)."""
    if "v_start" not in st.session_state:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        start, warnings = from_query(params)
        st.session_state["v_start"], st.session_state["v_warnings"] = start, warnings
        st.session_state.update({f"v_variant_{f}": variants[1] for f, variants in FAMILIES.items()})
        st.session_state.update({"v_family": start.family, f"v_variant_{start.family}": start.variant,
                                 "v_p": start.p, "v_mode": start.mode, "v_block": start.block, "v_seed": start.seed})
    for warning in st.session_state["v_warnings"]:
        st.warning(literal(f"URL parameter ignored: {warning}."))
    bar = st.sidebar
    family = bar.radio("Network", list(FAMILIES), format_func=FAMILY_LABELS.get, key="v_family")
    variant = bar.radio("Dropout variant", FAMILIES[family], format_func=fv.NAMES.get, key=f"v_variant_{family}")
    p = bar.slider("p (drop probability)", 0.05, 0.9, step=0.05, key="v_p",
                   help="The probability that each unit (position, channel, weight) is dropped; keep is 1 - p.")
    block = st.session_state.get("v_block", 3)
    if family == "conv" and variant == "block":
        block = bar.slider("Block size (squares of b × b)", *BLOCK_SIZES, key="v_block")
    mode = bar.radio("Scaling", FIELD["mode"].choices, key="v_mode", horizontal=True,
                     help="inverted: survivors x 1/(1-p) in training, nothing at test; classic: x (1-p) at test")
    seed = bar.number_input("Seed", 0, 2**31 - 1, step=1, key="v_seed")
    s = Settings(family, variant, float(p), mode, int(block), int(seed))
    st.query_params.from_dict(s.query())
    return s


def pair_for(s: Settings) -> Pair:
    """This session's run for these settings: a new one (from iteration 0) when they change."""
    spec = Spec(s.family, s.variant, s.p, s.mode, s.block)
    pair = st.session_state.get("v_pair")
    if pair is None or st.session_state.get("v_key") != (spec, s.seed):
        pair = st.session_state["v_pair"] = Pair(spec, s.seed)
        st.session_state["v_key"] = (spec, s.seed)
    return pair


def controls() -> None:
    playing = st.session_state.get("v_playing", False)
    play, step, reset = st.columns(3)
    # Play and Pause are two buttons, each only drawn in the state it leaves: after a fragment-only rerun the
    # browser can send a button's last trigger again with the next request, and a toggle would then flip back
    # (callbacks run before the page: this run already draws the new state, and the fragment its timer or none)
    label, key = ("❚❚ Pause", "v_pause") if playing else ("▶ Play", "v_play")
    play.button(label, key=key, width="stretch", type="primary", on_click=_set_playing, args=(not playing,))
    step.button("Step", key="v_step", width="stretch", disabled=playing, on_click=_step)
    reset.button("Reset", key="v_reset", width="stretch", on_click=_reset)


def _set_playing(playing: bool) -> None:
    st.session_state["v_playing"] = playing


def _step() -> None:
    pair = st.session_state.get("v_pair")
    if pair is not None:
        pair.step(1)


def _reset() -> None:
    st.session_state.pop("v_pair", None)
    st.session_state["v_playing"] = False


def panels(pair: Pair) -> None:
    frame, history = pair.snapshot()
    spec = frame.spec
    shown = f"{100 * frame.test_acc:.1f}%"
    if frame.moment_acc is not None:
        shown += f" (moment matching: {100 * frame.moment_acc:.1f}%)"
    st.markdown(f"**Iteration {frame.step}** · {fv.variant_label(spec)} · test accuracy {shown} · "
                f"no-dropout twin {100 * frame.twin_test_acc:.1f}%")
    masks = {"conv": fv.conv_maps_figure, "recurrent": fv.rnn_mask_figure, "dense": fv.dense_figure}[spec.family]
    st.plotly_chart(masks(frame), config=plot_config("variants-masks"), key="v_masks")
    st.plotly_chart(fv.curves_figure(history, spec), config=plot_config("variants-curves"), key="v_curves")
    left, right = st.columns(2)
    left.plotly_chart(fv.rescale_figure(frame), config=plot_config("variants-rescale"), key="v_rescale")
    right.markdown(RESCALING)


def main() -> None:
    st.set_page_config(page_title="dropviz: variants", layout="wide")
    st.header("Dropout variants")
    s = settings()
    pair = pair_for(s)
    controls()
    if st.session_state.get("v_playing", False):
        @st.fragment(run_every=TICK_SECONDS)
        def live():
            if st.session_state.get("v_playing", False):
                pair.step(TICK_STEPS)
            panels(pair)

        live()
    else:
        panels(pair)
    st.caption(TEACHING[s.family] + " p is the drop probability; the twin has the same initial weights and batches.")


run_page(main)
