"""dropviz lesson: the ten steps of dropviz/lesson.py as a guided page, one step at a time.

The step is in the URL (`/Lesson?step=5`, from 1) and the URL follows when the step changes. Each step
loads its own setup (open_session: its Config, speed and warm-up) into its own LivePage, kept for the
whole browser session, so going Back returns to where that step's run was. The page's state is one
Lesson object under st.session_state[LESSON_KEY]; the live page's state (PAGE_KEY) is not touched.

Layout for a 1280x720 projector: on the left the step (number, title, Back/Next, its sentences, the
question and its answer); on the right the stage (app_pages/stage.py): a top bar of controls, the live
view and the step's one detail panel. Stage also handles the keys and passes PageDown/PageUp back here.

The lesson is a class (dropviz/live/classroom.py): the step card shows its code, and students who open
/?follow=CODE see the step's heading and follow its run as the teacher moves Next and Back. One class for the
whole browser session: its code stays the same on every step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

torch.set_num_threads(1)

import streamlit as st  # noqa: E402

from app_pages import notation_view  # noqa: E402
from app_pages.guard import run_page  # noqa: E402
from app_pages.stage import PANEL_KEY, TEST_TIME_KEY, stage  # noqa: E402
from dropviz import notation as notation_rule  # noqa: E402
from dropviz.config import shown  # noqa: E402
from dropviz.lesson import STEPS, LessonStep, open_session  # noqa: E402
from dropviz.live import LivePage, classroom  # noqa: E402
from dropviz.live.page_state import notation_query  # noqa: E402

LESSON_KEY = "lesson_page"
# top-bar controls the lesson leaves out: each step sets its data, mode, speed and panel itself
HIDDEN = frozenset({"input_p", "mode", "panel", "speed"})
CARD, STAGE = 1, 3  # the page's width: the step card beside the stage
# The step card at projector size: read from the back row (nothing under 19 px), tight enough for one screen
CARD_CSS = """<style>
.st-key-lesson_card { gap: 0.55rem; }
.st-key-lesson_card [data-testid="stMarkdownContainer"] { margin-bottom: 0; }
.st-key-lesson_card p, .st-key-lesson_card button p { font-size: 19px; line-height: 1.3; margin: 0; }
.st-key-lesson_title p { font-size: 25px; line-height: 1.15; font-weight: 700; margin: 0; }
.st-key-lesson_nav { gap: 0.5rem; }
.st-key-lesson_count p { font-size: 19px; color: #5a5a5a; white-space: nowrap; }
/* Streamlit's header is a transparent strip over the top of the page: clicks go through it to Back/Next and
   the stage's top bar; its one control left, the button that opens the sidebar (the other pages), shows */
body:has(.st-key-lesson_card) header[data-testid="stHeader"],
body:has(.st-key-lesson_card) header[data-testid="stHeader"] * { pointer-events: none; }
body:has(.st-key-lesson_card) header [data-testid="stToolbar"] { display: flex !important; }
body:has(.st-key-lesson_card) header [data-testid="stExpandSidebarButton"] { pointer-events: auto; }
.st-key-lesson_question p strong { color: #1b63b5; }
</style>"""
PLAY_IDS = 1_000_000  # step N's play ids start at N * PLAY_IDS (see Lesson.share_pulls)
ENTERED = "back"  # a widget of this page only: Streamlit forgets its state once another page has run


# ---------------------------------------------------------------------------- state and URL
@dataclass
class Lesson:
    step: int = 1                                             # the step shown, from 1
    pages: dict[int, LivePage] = field(default_factory=dict)  # per step, its run; made when first shown
    answer_shown: bool = False                                # hidden again when the step changes
    warning: str = ""                                         # a bad ?step=, shown until the step changes
    url_step: str | None = None                               # the step this page last wrote into the URL
    notation: str = notation_rule.DEFAULT                     # how p is shown (?notation=, dropviz.notation)
    test_time: dict[int, bool] = field(default_factory=dict)  # per step, its test-time switch when last left
    broadcast: classroom.Broadcast | None = None             # the class students follow (opened once)

    @property
    def current(self) -> LessonStep:
        return STEPS[self.step - 1]

    def page(self) -> LivePage:
        """This step's run, opened with its setup the first time the step is shown."""
        if self.step not in self.pages:
            live = open_session(self.current)
            live.play_id = self.step * PLAY_IDS
            self.pages[self.step] = LivePage(live)
        self.pages[self.step].notation = self.notation
        return self.pages[self.step]

    def count(self) -> str:
        return f"Step {self.step} of {len(STEPS)}"

    def heading(self) -> str:
        """The step as its class's followers see it, above their stage."""
        return f"{self.count()}: {self.current.title}"

    def publish(self, page: LivePage) -> None:
        """The class shows this step: its run, heading and panel. Only the step shown publishes its frames."""
        if self.broadcast is None:
            self.broadcast = classroom.open_class(page.live)
        self.broadcast.show_step(page.live, self.heading(), self.current.setup.panel)
        for p in self.pages.values():
            p.broadcast = self.broadcast if p is page else None

    def share_pulls(self) -> None:
        """Every step's runs play in the same browser element (the stage's live view, one key), which counts
        its frame requests across steps and remembers which play it was told to stop: each step's play ids
        are its own (PLAY_IDS apart), and the step shown knows the last request answered for any step."""
        last = max(p.pulled for p in self.pages.values())
        for p in self.pages.values():
            p.pulled = last

    def go(self, number: int) -> None:
        """Show step `number` (clamped to the lesson); the step left behind is paused where it was."""
        number = max(1, min(len(STEPS), number))
        if number == self.step:
            return
        if self.step in self.pages:
            self.pages[self.step].live.pause()
        self.test_time[self.step] = bool(st.session_state.get(TEST_TIME_KEY, self.current.setup.test_time))
        self.step, self.answer_shown, self.warning = number, False, ""
        self.enter()

    def enter(self) -> None:
        """The step's own view: its panel, and its test-time switch as it was left, at first as its setup
        says (widget state: this runs in a callback or before the stage draws its widgets)."""
        setup = self.current.setup
        st.session_state[TEST_TIME_KEY] = self.test_time.get(self.step, setup.test_time)
        st.session_state[PANEL_KEY] = setup.panel


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
    want = {"step": state.url_step, **notation_query(state.notation)}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


# ---------------------------------------------------------------------------- callbacks
def on_next() -> None:
    lesson().go(lesson().step + 1)


def on_prev() -> None:
    lesson().go(lesson().step - 1)


def on_answer() -> None:
    lesson().answer_shown = True


def on_key(action: str) -> None:
    """PageDown / PageUp, passed on by the stage."""
    {"next": on_next, "prev": on_prev}.get(action, lambda: None)()


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
    return fallback, (f"step={plain(shown(raw))} is not valid: expected an integer from 1 to {len(STEPS)}; "
                      f"showing step {fallback}.")


def step_card(state: Lesson) -> None:
    """The step: its number and title, Back/Next, a bad-URL warning, its sentences, the question, the answer."""
    s = state.current
    st.html(CARD_CSS)
    with st.container(key="lesson_card"):
        with st.container(key="lesson_nav", horizontal=True, vertical_alignment="center"):
            with st.container(key="lesson_count", width="content"):
                st.markdown(state.count())
            st.button("← Back", key="back", on_click=on_prev, disabled=state.step == 1, help="PageUp")
            st.button("Next →", key="next", on_click=on_next, disabled=state.step == len(STEPS), type="primary",
                      help="PageDown")
        with st.container(key="lesson_title"):
            st.markdown(s.title)
        if state.warning:
            st.warning(state.warning)
        with st.container(key="lesson_text"):
            st.markdown(s.text)
            if state.notation != notation_rule.DROP:
                st.caption(notation_rule.translation(s.setup.config.p, s.setup.config.input_p, state.notation))
        with st.container(key="lesson_question"):
            st.markdown(f"**Predict first:** {s.question}")
            if state.answer_shown:
                st.success(s.answer)
            else:
                st.button("Show the answer", key="answer", on_click=on_answer)
        if state.broadcast is not None:  # students follow with ?follow=<code>; the stage beside has no room for it
            with st.container(key="lesson_code"):
                st.caption(f"**Class code: {state.broadcast.code}**")


def main() -> None:
    st.set_page_config(page_title="dropviz: lesson", layout="wide", initial_sidebar_state="collapsed")
    if LESSON_KEY not in st.session_state:
        st.session_state[LESSON_KEY] = Lesson()
    state = lesson()
    if ENTERED not in st.session_state:  # first run of this page since another page ran: its widgets are new
        state.enter()
    read_url(state)
    state.notation, notation_warnings = notation_view.current()
    write_url(state)
    for warning in notation_warnings:
        st.warning(plain(warning))
    page = state.page()
    state.share_pulls()
    state.publish(page)
    page.full_run()  # a new epoch: the browser drops frames it has not shown yet
    text, stage_area = st.columns([CARD, STAGE], gap="small")
    with text:
        step_card(state)
    with stage_area:
        stage(page, state.current.setup.panel, hidden=HIDDEN, extra_keys=on_key, share=STAGE / (CARD + STAGE))
    state.test_time[state.step] = bool(st.session_state.get(TEST_TIME_KEY))  # for a return from another page


def lesson_page() -> None:
    run_page(main)


if __name__ == "__main__":
    lesson_page()
