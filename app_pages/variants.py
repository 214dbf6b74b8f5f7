"""Variants page: layout and wiring only. Dropout in conv and recurrent nets, and DropConnect, on 8x8 digits.

Data flows widgets -> Settings (dropviz/variants/settings.py, also the URL) -> Pair (a variant and its p = 0
twin, dropviz/variants/run.py) -> VariantFrame -> payload (dropviz/variants/payload.py) -> the browser's view
(dropviz/variants/view.js), which draws every frame. While playing, the browser asks for the next frames as
it draws (dropviz/variants/playback.py); each request reruns only the "v_live" fragment, which holds the view
alone. Pause stops the asking in the browser at the press and sends the iteration on screen; the engine goes
back to it, so the frame on screen is the engine's. Paused, nothing runs; the panels are then also there as
Plotly charts, to download. The presentation keys are the live stage's (dropviz/live/keys.py): Space presses
Play or Pause in the browser (view.js), → and "." step; a hidden tab presses Pause.
"""
from __future__ import annotations

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages.guard import run_page  # noqa: E402
from dropviz.config import FIELD, literal  # noqa: E402
from dropviz.figures import variants as fv  # noqa: E402
from dropviz.figures.download import plot_config  # noqa: E402
from dropviz.live.keys import key_help, keyboard  # noqa: E402
from dropviz.variants.component import variants_view  # noqa: E402
from dropviz.variants.nets import FAMILIES  # noqa: E402
from dropviz.variants.playback import KEY_ACTIONS, Playback  # noqa: E402
from dropviz.variants.run import Pair, Spec  # noqa: E402
from dropviz.variants.settings import BLOCK_SIZES, Settings, from_query  # noqa: E402

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


def playback_for(s: Settings) -> Playback:
    """This session's playback of the run for these settings: a new run (from iteration 0) when they change."""
    spec = Spec(s.family, s.variant, s.p, s.mode, s.block)
    play = st.session_state.get("v_playback")
    if play is None:
        play = st.session_state["v_playback"] = Playback(Pair(spec, s.seed))
        st.session_state["v_key"] = (spec, s.seed)
    elif st.session_state.get("v_key") != (spec, s.seed):
        play.new_run(Pair(spec, s.seed))
        st.session_state["v_key"] = (spec, s.seed)
    return play


def controls(play: Playback) -> None:
    p, step, reset = st.columns(3)
    # Play and Pause are two buttons, each only drawn in the state it leaves: the browser can send a button's
    # last trigger again with the next request, and a toggle would then flip back. view.js stops asking for
    # frames when Pause (or Step, Reset) is pressed: its key names the button there.
    label, key = ("❚❚ Pause", "v_pause") if play.playing else ("▶ Play", "v_play")
    p.button(label, key=key, width="stretch", type="primary", on_click=play.pause if play.playing else play.play)
    step.button("Step", key="v_step", width="stretch", disabled=play.playing, on_click=play.step)
    reset.button("Reset", key="v_reset", width="stretch", on_click=_reset)
    st.caption(key_help(KEY_ACTIONS))


def _reset() -> None:
    play = st.session_state.get("v_playback")
    if play is not None:
        play.new_run(Pair(play.pair.spec, play.pair.run.seed))


@st.fragment
def live(play: Playback) -> None:
    """The "v_live" fragment: the view alone, so a request for frames costs one light rerun."""
    def on_pull():
        value = st.session_state.get("v_view")
        play.pull(value.get("pull") if value is not None else None)

    def on_pause():  # the browser's Pause, with the iteration it shows: the engine goes back to it
        value = st.session_state.get("v_view")
        play.pause_at((value.get("pause") or {}).get("step") if value is not None else None)
        st.rerun()  # the whole page: the Play button, and the panels of a paused page

    variants_view(play.payload(), key="v_view", on_pull=on_pull, on_pause=on_pause)


def panels(pair: Pair) -> None:
    """Paused: the same panels as Plotly charts, with their download buttons."""
    frame, history = pair.snapshot()
    with st.expander("The panels as charts, to download"):
        masks = {"conv": fv.conv_maps_figure, "recurrent": fv.rnn_mask_figure, "dense": fv.dense_figure}
        st.plotly_chart(masks[frame.spec.family](frame), config=plot_config("variants-masks"), key="v_masks")
        st.plotly_chart(fv.curves_figure(history, frame.spec), config=plot_config("variants-curves"), key="v_curves")
        st.plotly_chart(fv.rescale_figure(frame), config=plot_config("variants-rescale"), key="v_rescale")


def main() -> None:
    st.set_page_config(page_title="dropviz: variants", layout="wide")
    st.header("Dropout variants")
    s = settings()
    play = playback_for(s)
    with st.sidebar:  # before the view, so a key pressed once the view is drawn is heard; its empty element's
        keyboard(play.key, key="v_keys", actions=KEY_ACTIONS)  # gap goes at the foot of the sidebar
    controls(play)
    live(play)
    st.markdown(RESCALING)
    st.caption(TEACHING[s.family] + " p is the drop probability; the twin has the same initial weights and batches.")
    if not play.playing:
        panels(play.pair)


run_page(main)
