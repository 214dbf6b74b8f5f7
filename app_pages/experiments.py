"""Experiments page: layout and wiring only. The work is dropviz.experiments, the charts
dropviz.figures.experiments.

An experiment runs as a dropviz.job.Job (one at a time per server, later ones wait in line); a
fragment with run_every polls its progress and offers Cancel (a waiting job leaves the line at once,
a running one stops at its next short chunk). When nothing runs or waits, no fragment has a timer.
A waiting visitor sees their place in the line and the estimated wait. The job belongs to this
session (app_pages/job_owner.py): when the tab is closed it is cancelled. A run whose memory
estimate is over the server's limit is refused with the figure; one past the time limit is stopped.
"""
from __future__ import annotations

import time

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages import notation_view  # noqa: E402
from app_pages.guard import run_page  # noqa: E402
from app_pages.job_owner import guard_exit, session_alive  # noqa: E402
from dropviz.config import DATASETS, FIELD, Config, literal  # noqa: E402
from dropviz.experiments import EXPERIMENTS, SUMMARIES  # noqa: E402
from dropviz.figures.download import plot_config  # noqa: E402
from dropviz.figures.experiments import FIGURES  # noqa: E402
from dropviz.job import GONE, MINUTES_ENV, TIME, Job, minutes, setting_warnings  # noqa: E402
from dropviz.live import PAGE_KEY  # noqa: E402
from dropviz.presets import PRESETS  # noqa: E402

LIVE = "the live view's settings"
HOW_TO_READ = {
    "p-sweep": "Each point is a network trained with that p (drop probability); lines are the mean over the seeds "
               "that finished, bands their 95% t-interval. A fifth of the training points is held out as a "
               "validation set, and each network stops early: its results are those at its lowest validation "
               "loss, checked 50 times up to the iteration cap, and it stops when that has not fallen for a fifth "
               "of the cap (bottom: the iterations used; runs still improving at the cap need more iterations, "
               "they do not underfit). The best p has the lowest mean validation loss; the shaded p lie within one "
               "standard error of it, a plateau where the data cannot tell them apart. Test results are for "
               "reading only. Too little dropout overfits (training loss near zero, test loss high); too much "
               "underfits. A ✕ counts runs that diverged; they are left out of the means.",
    "data-size": "Each seed draws its own random training points from one pool (its n points are the first n of "
                 "its own order), so the bands show how much the result depends on which points were drawn, "
                 "not only on the initial weights and masks. Both arms of a seed train on the same points and "
                 "every network is tested on the same test set. Left: test accuracy with and without dropout. "
                 "Right: the gain, with minus without, for the same seed. Bands are 95% t-intervals over seeds. "
                 "The 2014 paper found no gain for very small sets, then a gain that grows and shrinks again as "
                 "data becomes plentiful.",
    "mc-vs-scaling": "The usual test-time rule makes one deterministic pass with nothing dropped: inverted dropout "
                     "already scaled the survivors by 1/(1-p) in training; classic mode multiplies activations by "
                     "the keep probability 1-p. Monte-Carlo dropout keeps dropping at test time and averages T "
                     "passes. Top: MC minus weight scaling, for test error and log loss, with a 95% paired "
                     "interval over every (seed, test point) pair: both rules are judged on the same networks and "
                     "points. Below zero, MC is better; an interval that spans zero shows no clear difference. The "
                     "dotted green line marks the T from which MC is never clearly worse. The calibration panel "
                     "shows the expected calibration error (the gap between confidence and accuracy): averaging "
                     "passes often makes the probabilities more honest even where the error does not change. The "
                     "2014 paper needed about 50 passes on MNIST. The map shows how much the passes disagree: the "
                     "std of P(class 1), highest along the decision boundary and where it runs on away from the "
                     "data, zero where every pass agrees. Read it as Gal & Ghahramani (2016) do: dropout at test "
                     "time samples networks from an approximate posterior over the weights, and their spread is "
                     "the model's uncertainty, an approximation that follows p and the network as much as the data "
                     "(the Why dropout works page shows it on a 1-D set with a gap).",
    "sparsity": "Left: test-time activations of the last hidden layer, all seeds pooled (log scale). Right: each "
                "neuron's mean |activation| over the test set. The legend gives the mean activation and the share "
                "of activations above 0.01. The 2014 paper saw that with dropout fewer units are active and the "
                "mean activation is lower: sparser features.",
    "cost": "Left: median time of one training iteration of one network; drawing the masks costs time. Middle: "
            "training loss (measured at test time) against iterations, mean and 95% t-interval over seeds; the "
            "diamonds mark the mean iteration at which each arm reaches the target. Right: test loss of every run, "
            "one line per seed, with and without dropout, and the standard deviation of the final test loss of "
            "each arm. The dotted black line trains the first dropout seed again from scratch and lies exactly on "
            "it: the spread comes from the seed (initial weights, batch order, masks), not from the engine.",
    "regularizers": "Each method trains from the same seeds: dropout (the set p, or 0.5), L2 (the set weight decay, "
                    "or 0.001) and max-norm (the set bound, or 1), alone and combined. Dots are seeds, diamonds "
                    "the mean with its 95% interval. On the right, the 2014 paper's MNIST errors (Table 9): far "
                    "bigger networks and data, so compare the order of the methods, not the numbers. For the "
                    "paper's setting start from digits with momentum 0.9.",
    "variants": "Each point is the mean test accuracy (top) or loss (bottom) over seeds, with its 95% interval; grey "
                "is the same family without dropout, from the same initial weights and batches. Always on the 8x8 "
                "digits. Conv: element-wise, whole channels, or squares of feature maps dropped. Recurrent: a fresh "
                "mask at every step, or one mask shared over the steps. DropConnect drops weights, and is scored "
                "with mean scaling and with the paper's moment matching. The Variants page shows the masks.",
}


def live_config() -> Config:
    cfg = st.session_state.get("config")
    if isinstance(cfg, Config):
        return cfg
    params = {name: st.query_params.get_all(name) for name in st.query_params}  # a repeated key: all its values
    cfg, warnings = Config.from_query(params)
    for warning in warnings:
        st.warning(literal(f"URL parameter ignored: {warning}."))
    return cfg


def controls(live: Config):
    names = list(EXPERIMENTS)
    name = st.sidebar.selectbox("Experiment", names, format_func=lambda n: EXPERIMENTS[n].title, key="x_name")
    start = st.sidebar.selectbox("Start from", [LIVE, *PRESETS], key="x_start")
    cfg = live if start == LIVE else PRESETS[start].config
    dataset = st.sidebar.selectbox("Data set", DATASETS, index=DATASETS.index(cfg.dataset), key=f"x_data_{start}",
                                   help="digits: the real 8x8 handwritten digits, where the amount-of-data "
                                        "experiment shows the 2014 paper's shape best")
    try:
        cfg = cfg.replace(dataset=dataset)
    except ValueError as err:
        st.sidebar.warning(f"{err}. Keeping {cfg.dataset}.")
    default_steps = EXPERIMENTS[name].steps_from(None if start == LIVE else PRESETS[start].steps)
    seeds = st.sidebar.slider("Seeds per setting", 1, 10, EXPERIMENTS[name].default_seeds, key=f"x_seeds_{name}",
                              help="Bands are 95% t-intervals over the seeds: more seeds, narrower bands.")
    steps = st.sidebar.number_input("Training iterations per network", 50, 20000, default_steps, step=250,
                                    key=f"x_steps_{start}_{name}")
    params = {"seeds": seeds, "steps": int(steps)}
    p_default = cfg.p if cfg.p > 0 else 0.5
    if name == "p-sweep":
        params["constant_pn"] = st.sidebar.checkbox(
            "Also keep (1-p) x width constant", key="x_pn",
            help="The paper's second variant: wider layers at higher p, so the expected number of kept "
                 "neurons stays the same.")
    else:
        params["p"] = st.sidebar.slider("p of the dropout runs (drop probability)", 0.05, FIELD["p"].hi,
                                        float(round(p_default, 2)), 0.05, key=f"x_p_{start}")
    if name == "mc-vs-scaling":
        params["passes"] = st.sidebar.slider("Monte-Carlo passes T", 10, 200, 100, 10, key="x_passes")
    return name, cfg, params


def progress_panel(job: Job) -> None:
    @st.fragment(run_every=0.5)
    def poll():  # its timer reruns bypass the page's try/except: guard it too
        try:
            _poll(job)
        except Exception as err:  # noqa: BLE001 - a sentence, never a traceback
            st.error(f"Progress cannot be shown: {type(err).__name__}: {err}")
    poll()


def _poll(job: Job) -> None:
    if not job.running:
        st.rerun(scope="app")
    elapsed = time.perf_counter() - job.started
    st.progress(job.fraction, text=f"{EXPERIMENTS[job.name].title}: {job.message} ({elapsed:.0f} s)")
    if job.waiting:
        position = job.position
        ahead = "1 experiment is" if position == 1 else f"{position} experiments are"
        st.caption(f"Place in the line: {position}. {ahead} ahead of yours; estimated wait: about "
                   f"{minutes(job.wait_estimate())} (each may train for at most {minutes(job.time_limit)}).")
    if st.button("Cancel", key="x_cancel", type="secondary"):
        job.cancel()
        if not job.running:  # it was waiting: gone at once
            st.rerun(scope="app")


def results(job: Job, notation: str) -> None:
    if job.cancelled and job.reason == TIME:
        st.warning(f"Stopped after {minutes(job.seconds)}: one experiment may train for at most "
                   f"{minutes(job.time_limit)} on this server ({MINUTES_ENV}), so that others get their turn. "
                   "Nothing was kept, as an experiment returns results only when it finishes: fewer seeds or "
                   "iterations finish sooner.")
        return
    if job.cancelled and job.reason == GONE:
        st.info(f"Cancelled after {job.seconds:.1f} s because this page was disconnected. Press Run again.")
        return
    if job.cancelled:
        st.info(f"Cancelled after {job.seconds:.1f} s. Nothing to show: change the settings or press Run again.")
        return
    if job.error:
        st.error(job.error)
        return
    if job.result is None:
        return
    st.success(f"{EXPERIMENTS[job.name].title}: finished in {job.seconds:.1f} s, from {job.cfg.label()}")
    try:
        fig = FIGURES[job.name](job.result, **({"notation": notation} if job.name == "p-sweep" else {}))
    except Exception as err:  # noqa: BLE001 - a figure problem must not hide the CSV
        st.error(f"The chart could not be drawn ({type(err).__name__}: {err}); the CSV is still available.")
    else:
        st.plotly_chart(fig, config=plot_config(job.name))
    if job.name in SUMMARIES:
        st.text(SUMMARIES[job.name](job.result))
    st.caption(HOW_TO_READ[job.name])
    st.download_button("Download CSV", job.result.to_csv(index=False).encode(), file_name=f"dropviz-{job.name}.csv",
                       mime="text/csv", key="x_download", on_click="ignore")


def own_file() -> bool:
    """Whether the live view of this session trains on an uploaded data file."""
    state = st.session_state.get(PAGE_KEY)
    return bool(state is not None and getattr(state.live, "table", None) is not None)


def main() -> None:
    st.set_page_config(page_title="dropviz: experiments", layout="wide")
    st.title("Experiments")
    guard_exit()
    notation, notation_warnings = notation_view.current()
    notation_view.write_url(notation)
    for warning in notation_warnings:
        st.warning(literal(f"URL parameter ignored: {warning}."))
    for warning in setting_warnings():
        st.sidebar.warning(warning)
    live = live_config()
    name, cfg, params = controls(live)
    experiment = EXPERIMENTS[name]
    st.markdown(f"**{experiment.title}.** {experiment.question}")
    st.caption(f"Network and data: {cfg.label()}. p is always the drop probability; the keep probability is 1 - p."
               + (" The p-sweep's chart reads in the 2014 paper's notation: retain = 1 - p."
                  if notation != notation_view.NOTATION.default else ""))
    if own_file():
        st.info(f"These experiments train on the built-in data set {cfg.dataset!r}, not on your uploaded file "
                "(the live view's only); from the command line, python -m dropviz experiment --data-file PATH "
                "runs them on a file.")
    job: Job | None = st.session_state.get("x_job")
    running = job is not None and job.running
    if st.button("Run", type="primary", disabled=running, key="x_run"):
        job = st.session_state["x_job"] = Job(name, cfg, params, alive=session_alive()).start()
        running = job.running
    if running:
        progress_panel(job)
    elif job is not None:
        results(job, notation)


run_page(main)
