"""dropviz lesson: the ten steps of dropviz/lesson.py as a guided page, one step at a time.

The step is in the URL (`/Lesson?step=5`, from 1) and the URL follows when the step changes. Each step
loads its own setup (open_session: its Config, speed and warm-up) into its own LivePage, kept for the
whole browser session, so going Back returns to where that step's run was. The page's state is one
Lesson object under st.session_state[LESSON_KEY]; the live page's state (PAGE_KEY) is not touched.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from dropviz import figures  # noqa: E402
from dropviz.lesson import STEPS, LessonStep, open_session  # noqa: E402
from dropviz.live import LivePage, live_payload  # noqa: E402
from dropviz.live.component import live_view  # noqa: E402
from dropviz.live.keys import key_help, keyboard  # noqa: E402

LESSON_KEY = "lesson_page"
KEY_ACTIONS = ("play_pause", "step", "next", "prev")
PLOT_CONFIG = {"displayModeBar": False, "staticPlot": True}
MAX_SHOWN = 30  # characters of a bad URL value repeated in its warning


# ---------------------------------------------------------------------------- state and URL
@dataclass
class Lesson:
    step: int = 1                                             # the step shown, from 1
    pages: dict[int, LivePage] = field(default_factory=dict)  # per step, its run; made when first shown
    answer_shown: bool = False                                # hidden again when the step changes
    warning: str = ""                                         # a bad ?step=, shown until the step changes
    url_step: str | None = None                               # the step this page last wrote into the URL

    @property
    def current(self) -> LessonStep:
        return STEPS[self.step - 1]

    def page(self) -> LivePage:
        """This step's run, opened with its setup the first time the step is shown."""
        if self.step not in self.pages:
            self.pages[self.step] = LivePage(open_session(self.current))
        return self.pages[self.step]

    def go(self, number: int) -> None:
        """Show step `number` (clamped to the lesson); the step left behind is paused where it was."""
        number = max(1, min(len(STEPS), number))
        if number == self.step:
            return
        if self.step in self.pages:
            self.pages[self.step].live.pause()
        self.step, self.answer_shown, self.warning = number, False, ""


def lesson() -> Lesson:
    return st.session_state[LESSON_KEY]


def read_url(state: Lesson) -> None:
    """Follow the URL when it names another step than the one this page last wrote there: a new visit,
    or the browser's Back button. A bad value warns in one sentence and keeps the step shown."""
    raw = st.query_params.get("step")
    if raw is None or raw == state.url_step:
        return
    number, warning = step_from_query(raw, fallback=state.step)
    state.go(number)
    state.warning = warning or ""


def write_url(state: Lesson) -> None:
    state.url_step = str(state.step)
    if st.query_params.to_dict() != {"step": state.url_step}:
        st.query_params.from_dict({"step": state.url_step})


# ---------------------------------------------------------------------------- callbacks
def on_next() -> None:
    lesson().go(lesson().step + 1)


def on_prev() -> None:
    lesson().go(lesson().step - 1)


def on_answer() -> None:
    lesson().answer_shown = True


def on_play_pause() -> None:
    lesson().page().live.toggle()


def on_step() -> None:
    lesson().page().live.step_once()


def on_reset() -> None:
    lesson().page().live.reset()


def on_key(action: str) -> None:
    {"next": on_next, "prev": on_prev, "play_pause": on_play_pause, "step": on_step}.get(action, lambda: None)()


# ---------------------------------------------------------------------------- the page
def plain(text: str) -> str:
    """Text from the URL, for a Markdown element: in a code span, so it shows as typed, never as Markdown
    or HTML (a code span's fence is longer than any run of backticks inside it)."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def step_from_query(raw: str, fallback: int) -> tuple[int, str]:
    """The step a URL's `step` value names, or `fallback` and one sentence naming the field and what is allowed."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(STEPS):
        return int(text), ""
    shown = raw if len(raw) <= MAX_SHOWN else raw[:MAX_SHOWN] + "…"
    return fallback, (f"step={plain(repr(shown))} is not valid: expected an integer from 1 to {len(STEPS)}; "
                      f"showing step {fallback}.")


def top_bar(state: Lesson) -> None:
    s = state.current
    title, back, nxt = st.columns([6, 1, 1], vertical_alignment="center")
    title.markdown(f"### Step {state.step} of {len(STEPS)} · {s.title}")
    back.button("← Back", key="back", on_click=on_prev, disabled=state.step == 1, width="stretch")
    nxt.button("Next →", key="next", on_click=on_next, disabled=state.step == len(STEPS), width="stretch",
               type="primary")


def text_card(state: Lesson) -> None:
    s = state.current
    with st.container(key="lesson_text"):
        st.markdown(s.text)
    with st.container(key="lesson_question"):
        st.markdown(f"**Predict first:** {s.question}")
        if state.answer_shown:
            st.success(s.answer)
        else:
            st.button("Show the answer", key="answer", on_click=on_answer)


def controls(page: LivePage) -> None:
    live = page.live
    play, step, reset = st.columns(3)
    play.button("❚❚ Pause" if live.playing else "▶ Play", key="play", on_click=on_play_pause, type="primary",
                disabled=live.diverged, width="stretch")
    step.button("Step +1", key="step", on_click=on_step, disabled=live.diverged, width="stretch",
                help="Exactly one training iteration (pauses first).")
    reset.button("Reset", key="reset", on_click=on_reset, width="stretch",
                 help="Start this step's run again from iteration 0.")


def live_part(state: Lesson) -> None:
    page = state.page()
    live = page.live
    pairs = live.play_frames() if live.playing else None
    live_view(live_payload(live, pairs, state.current.setup.test_time, page.epoch), key=f"live_view_{state.step}")


def panel_part(state: Lesson) -> None:
    page, setup = state.page(), state.current.setup
    live = page.live
    try:
        if setup.panel == "gradients":
            fig = page.figure("gradient", lambda: figures.gradient_figure(live.frame, height=380), ())
        elif setup.panel == "rescale":
            fig = page.figure("rescale", lambda: figures.rescale_figure(list(live.recent), 0, live.cfg.mode,
                                                                         height=380), ())
        elif live.data.image_shape is not None:
            fig = page.figure("digits", lambda: figures.digits_figure(live.data, live.test_predictions(),
                                                                       height=380), ())
        else:
            def boundary():
                grid_x, grid_y, probs, extent = live.grid_prediction()
                return figures.boundary_figure(live.data, grid_x, grid_y, probs, live.frame, extent, height=380)
            fig = page.figure("boundary", boundary, ())
    except Exception as err:  # noqa: BLE001 - one broken panel must not take the page down
        st.error(f"The panel could not be drawn: {type(err).__name__}: {err}")
        return
    st.plotly_chart(fig, key=f"panel_{state.step}", config=PLOT_CONFIG, width="stretch")


def fragment(body, every: float | None):
    """body as a fragment rerunning every `every` seconds (None: on demand); an error pauses, in words."""
    @functools.wraps(body)
    def guarded():
        try:
            body()
        except Exception as err:  # noqa: BLE001 - st.rerun/st.stop raise BaseException and pass through
            lesson().page().live.pause()
            st.error(f"Something went wrong: {type(err).__name__}: {err}. Training is paused; press Play "
                     "to continue or Reset to start again.")
    st.fragment(run_every=every)(guarded)()


def stage_standin(state: Lesson) -> None:
    """Until app_pages/stage.py is merged: the live view and the step's panel, as the live page draws them."""
    page = state.page()
    page.full_run()
    controls(page)
    if page.live.diverged:
        st.error(page.live.message)
    keyboard(on_key, key="lesson_keys", actions=KEY_ACTIONS)

    def both():
        live_part(state)
        panel_part(state)
    fragment(both, page.live.rerun_interval if page.live.playing else None)


def main() -> None:
    st.set_page_config(page_title="dropviz: lesson", layout="wide", initial_sidebar_state="collapsed")
    if LESSON_KEY not in st.session_state:
        st.session_state[LESSON_KEY] = Lesson()
    state = lesson()
    read_url(state)
    write_url(state)
    top_bar(state)
    if state.warning:
        st.warning(state.warning)
    text, stage_area = st.columns([1, 2.2])
    with text:
        text_card(state)
        st.caption(key_help(KEY_ACTIONS))
    with stage_area:
        stage_standin(state)


def lesson_page() -> None:
    try:
        main()
    except Exception as err:  # noqa: BLE001 - visitors get a sentence, never a traceback
        st.error(f"Something went wrong: {type(err).__name__}: {err}. Reload the page to start again.")


if __name__ == "__main__":
    lesson_page()
