"""The Lesson page, run headless with Streamlit's AppTest: the step in the URL, Back/Next, the answer
reveal, and each step's own run with its own setup."""
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_app import press

from dropviz.config import shown as shown_value
from dropviz.lesson import STEPS
from dropviz.live.session import SPEED_BY_KEY

APP = str(Path(__file__).resolve().parent.parent / "app.py")
LESSON = "app_pages/lesson.py"


def open_lesson(step: str | None = None) -> AppTest:
    """A new browser session on /Lesson (with ?step=...). The first run, on the default page, registers the
    pages: AppTest finds a page by the hash of its url_path ("Lesson") only after st.navigation ran."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params.clear()
    if step is not None:
        at.query_params["step"] = step
    at.switch_page(LESSON).run()
    no_failure(at)
    return at


def no_failure(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def lesson(at):
    return at.session_state["lesson_page"]


def live(at):
    return lesson(at).page().live


def heading(at) -> str:
    """'Step 5 of 10 · Test time: nothing is dropped': the step's number and its title, as the page shows them."""
    number = next(m.value for m in at.markdown if re.fullmatch(r"Step \d+ of \d+", m.value))
    titles = {s.title for s in STEPS}
    title = next(m.value for m in at.markdown if m.value in titles)
    return f"{number} · {title}"


def shown_step(at) -> int:
    """The step number the page shows, checked against its title and the URL."""
    number = int(heading(at).split()[1])
    assert heading(at).endswith(" · " + STEPS[number - 1].title)
    assert at.query_params == {"step": str(number)}
    return number


def texts(at) -> str:
    return " ".join([m.value for m in at.markdown] + [s.value for s in at.success])


def test_step_in_the_url_opens_that_step():
    at = open_lesson("5")
    assert shown_step(at) == 5 and heading(at) == "Step 5 of 10 · Test time: nothing is dropped"
    assert STEPS[4].text in texts(at) and STEPS[4].question in texts(at)
    assert not at.warning
    assert lesson(at).pages.keys() == {5}  # only the step shown is opened


def test_no_step_in_the_url_opens_step_one_without_a_warning():
    at = open_lesson()
    assert shown_step(at) == 1 and not at.warning


@pytest.mark.parametrize("value", ["99", "abc", "0", "-3", "2.5", "", "1e1"])
def test_a_bad_step_warns_in_one_sentence_and_falls_back_to_step_one(value):
    at = open_lesson(value)
    assert shown_step(at) == 1
    warnings = [w.value for w in at.warning]
    assert warnings == [f"step=`{value!r}` is not valid: expected an integer from 1 to 10; showing step 1."]
    at.button(key="next").click().run()  # the warning goes once the step changes
    assert shown_step(at) == 2 and not at.warning


@pytest.mark.parametrize("value", ["**bold** <b>x</b>", "$x^2$ :red[x]", "a`b``c", "x" * 100])
def test_a_bad_step_is_repeated_as_typed_never_as_markdown(value):
    at = open_lesson(value)
    (warning,) = [w.value for w in at.warning]
    shown, _, tail = warning.removeprefix("step=").partition(" is not valid")
    n = len(shown) - len(shown.lstrip("`"))  # a code span: its fence, longer than any run of ` inside
    inner = shown[n:-n]
    assert shown.endswith("`" * n) and n > max((len(run) for run in re.findall("`+", inner)), default=0)
    assert inner.strip(" ") == shown_value(value)  # cut after 40 characters, saying how long it was
    assert tail == ": expected an integer from 1 to 10; showing step 1."


def test_next_and_back_change_the_step_and_the_url():
    at = open_lesson("1")
    assert at.button(key="back").disabled
    at.button(key="next").click().run()
    assert shown_step(at) == 2
    at.button(key="next").click().run()
    assert shown_step(at) == 3
    at.button(key="back").click().run()
    assert shown_step(at) == 2
    no_failure(at)


def test_last_step_has_no_next():
    at = open_lesson("10")
    assert shown_step(at) == 10 and at.button(key="next").disabled and not at.button(key="back").disabled
    no_failure(at)


def test_the_answer_is_hidden_until_asked_for_and_again_on_another_step():
    at = open_lesson("3")
    answer = STEPS[2].answer
    assert answer not in texts(at)
    at.button(key="answer").click().run()
    assert answer in texts(at)
    at.button(key="next").click().run()
    assert STEPS[3].answer not in texts(at)
    at.button(key="back").click().run()
    assert shown_step(at) == 3 and answer not in texts(at)
    no_failure(at)


def test_each_step_loads_its_own_setup():
    at = open_lesson("1")
    for number, s in enumerate(STEPS, start=1):
        assert shown_step(at) == number
        run, setup = live(at), s.setup
        assert run.cfg == setup.config and run.trainer.cfg == setup.config
        assert (run.cfg.p, run.cfg.mode, run.cfg.dataset) == (setup.config.p, setup.config.mode, setup.config.dataset)
        assert run.speed == SPEED_BY_KEY[setup.speed].label
        assert run.step_count == setup.warmup and not run.playing
        assert at.toggle(key="w_test_time").value is setup.test_time
        assert at.session_state["w_panel"] == setup.panel
        if number < len(STEPS):
            at.button(key="next").click().run()
    no_failure(at)
    assert sorted(lesson(at).pages) == list(range(1, 11))


def test_step_advances_this_steps_run_by_exactly_one_iteration_and_back_returns_to_it():
    at = open_lesson("4")
    warmup = STEPS[3].setup.warmup
    press(at, "step")
    assert live(at).step_count == warmup + 1 and live(at).twin.step_count == warmup + 1
    press(at, "step")
    assert live(at).step_count == warmup + 2
    at.run()  # a rerun without a click trains nothing while paused
    assert live(at).step_count == warmup + 2
    at.button(key="next").click().run()
    assert live(at).step_count == STEPS[4].setup.warmup  # step 5's own run, untouched
    at.button(key="back").click().run()
    assert shown_step(at) == 4 and live(at).step_count == warmup + 2  # where step 4's run was
    no_failure(at)


def test_play_pause_and_reset():
    at = open_lesson("2")
    press(at, "play")
    assert live(at).playing and at.button(key="play").label == "❚❚ Pause"
    for _ in range(3):  # what the browser's live view asks for while playing, a few frames at a time
        live(at).pull()
    per_pull = live(at).frames_per_pull
    press(at, "play")
    steps = live(at).step_count
    assert steps == 3 * per_pull * SPEED_BY_KEY[STEPS[1].setup.speed].per_tick
    assert not live(at).playing
    at.run()
    assert live(at).step_count == steps
    at.button(key="reset").click().run()
    assert live(at).step_count == 0
    no_failure(at)


def test_steps_play_in_one_live_view_with_play_ids_and_frame_requests_of_their_own():
    """The browser's live view stops pulling for the play id it was told to stop, and counts its frame
    requests across steps: each step's play ids are its own, and every step knows the last request."""
    at = open_lesson("6")
    press(at, "play")
    press(at, "play")
    lesson(at).page().pulled = 7  # the browser asked for 7 frames in all
    at.button(key="next").click().run()
    press(at, "play")
    assert live(at).playing and live(at).play_id != lesson(at).pages[6].live.play_id
    assert lesson(at).page().pulled == 7
    no_failure(at)


def test_leaving_a_playing_step_pauses_it():
    at = open_lesson("6")
    press(at, "play")
    assert live(at).playing
    at.button(key="next").click().run()
    assert not lesson(at).pages[6].live.playing
    no_failure(at)


def test_the_live_page_and_the_lesson_keep_their_own_runs():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(p="0.3", speed="10-per-frame")
    at.run()
    main = at.session_state["live_page"].live
    at.query_params.clear()
    at.query_params["step"] = "5"
    at.switch_page(LESSON).run()
    press(at, "step")
    at.query_params.clear()  # the sidebar's link to the live view carries no parameters
    at.switch_page("app_pages/live.py").run()
    assert not at.exception
    assert at.session_state["live_page"].live is main and (main.cfg.p, main.speed) == (0.3, "10 iterations per frame")
    at.switch_page(LESSON).run()  # back to the lesson: the same step, where its run was
    assert shown_step(at) == 5 and live(at).step_count == STEPS[4].setup.warmup + 1
    no_failure(at)


def test_each_step_keeps_its_test_time_switch_also_across_pages():
    at = open_lesson("5")
    assert at.toggle(key="w_test_time").value  # step 5 opens at test time
    at.toggle(key="w_test_time").set_value(False).run()
    at.button(key="next").click().run()
    assert not at.toggle(key="w_test_time").value  # step 6 opens in training
    at.button(key="back").click().run()
    assert not at.toggle(key="w_test_time").value  # step 5 as it was left
    at.button(key="next").click().run()
    at.toggle(key="w_test_time").set_value(True).run()
    at.switch_page("app_pages/live.py").run()
    at.switch_page(LESSON).run()
    assert shown_step(at) == 6 and at.toggle(key="w_test_time").value
    no_failure(at)
