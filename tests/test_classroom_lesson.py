"""A lesson is a class: the Lesson page shows a class code (the same on every step), and a student who opens
/?follow=CODE sees the teacher's step heading and follows the step's run and panel as the teacher moves on."""
import re

from test_app import live as follower_live
from test_app import live_view_data, no_failure, press, start
from test_app import page as follower
from test_lesson_page import lesson, open_lesson, shown_step

from dropviz.lesson import STEPS
from dropviz.live import LivePage, LiveSession, classroom


def class_code(at) -> str:
    """The code in the stage's help line, as 'Class code: ABCD'."""
    codes = [m.group(1) for c in at.caption if (m := re.search(r"Class code: ([A-Z0-9]{4,6})", c.value))]
    assert len(codes) == 1, [c.value for c in at.caption]
    return codes[0]


def heading(at) -> str:
    """The step heading a follower sees above the stage (plain text)."""
    (text,) = [t.value for t in at.text]
    return text


def follower_steps(at) -> list[int]:
    return [f["step"] for f in live_view_data(at)["frames"]]


def test_a_lesson_opens_one_class_and_keeps_its_code_on_every_step():
    at = open_lesson("2")
    code = class_code(at)
    assert classroom.find(code) is lesson(at).broadcast
    for _ in range(2):
        at.button(key="next").click().run()
        assert class_code(at) == code
    at.button(key="back").click().run()
    assert shown_step(at) == 3 and class_code(at) == code
    assert lesson(at).broadcast.live is lesson(at).page().live  # the class shows the step shown
    no_failure(at)


def test_a_follower_sees_the_step_and_follows_next_and_back():
    teacher = open_lesson("2")
    press(teacher, "step")
    student = start(follow=class_code(teacher))
    no_failure(student)
    assert heading(student) == f"Step 2 of {len(STEPS)}: {STEPS[1].title}"
    assert follower_live(student) is lesson(teacher).pages[2].live
    assert follower_steps(student) == [1]  # the step's run, at the teacher's iteration
    assert student.session_state["w_panel"] == STEPS[1].setup.panel
    assert all(b.key not in ("play", "step", "reset", "next", "back") for b in student.button)  # read-only

    teacher.button(key="next").click().run()
    student.run()
    no_failure(student)
    assert heading(student) == f"Step 3 of {len(STEPS)}: {STEPS[2].title}"
    step3 = lesson(teacher).pages[3].live
    assert follower_live(student) is step3 and follower_steps(student) == [step3.step_count]
    assert student.session_state["w_panel"] == STEPS[2].setup.panel == "rescale"  # the step's panel
    # a browser that has not drawn the new panel yet sends the old one back with its next request: not a pick
    student.selectbox(key="w_panel").set_value(STEPS[1].setup.panel).run()
    assert student.session_state["w_panel"] == "rescale"
    press(teacher, "step")
    student.run()
    assert follower_steps(student)[-1] == step3.step_count  # and the step's run as the teacher steps it

    teacher.button(key="back").click().run()
    student.run()
    assert heading(student).startswith("Step 2 of ") and follower_live(student) is lesson(teacher).pages[2].live
    assert follower_steps(student) == [1] and student.session_state["w_panel"] == STEPS[1].setup.panel


def test_a_followers_own_panel_stays_through_the_steps():
    teacher = open_lesson("2")
    student = start(follow=class_code(teacher))
    student.selectbox(key="w_panel").set_value("gradient").run()
    no_failure(student)
    teacher.button(key="next").click().run()  # step 3 shows the rescaling panel
    student.run()
    assert heading(student).startswith("Step 3 of ") and student.session_state["w_panel"] == "gradient"
    no_failure(student)


def test_try_it_yourself_starts_from_the_current_steps_settings():
    teacher = open_lesson("2")
    student = start(follow=class_code(teacher))
    teacher.button(key="next").click().run()
    student.run()
    student.button(key="try_it").click().run()
    no_failure(student)
    assert not follower(student).follow and follower_live(student) is not lesson(teacher).pages[3].live
    assert follower_live(student).cfg == STEPS[2].setup.config and follower_live(student).step_count == 0


def test_a_new_step_drops_the_frames_of_the_step_left_and_has_its_own_figures():
    one, two = LiveSession(), LiveSession()
    b = classroom.open_class(one)
    b.show_step(one, "Step 1 of 2: one", "boundary")
    b.publish({"frames": [{"step": 5}, {"step": 6}], "curves": {"c": 1}, "interval_ms": 40}, playing=True)
    b.figures["boundary"] = "figure of step 1"
    page = LivePage(b.live, follow=b.code, figures=b.figures)
    assert not b.catch_up(page)  # the same step: nothing to follow
    b.show_step(two, "Step 2 of 2: two", "rescale")
    assert b.since(0)[0] == []  # step 1's frames are not shown after step 2's
    b.publish({"frames": [{"step": 0}], "curves": {"c": 2}, "interval_ms": 40}, playing=False)
    assert [f["step"] for f in b.since(2)[0]] == [0]
    assert b.catch_up(page) and page.live is two and page.figures == {}  # step 2's own figures
    b.show_step(one, "Step 1 of 2: one", "boundary")
    assert b.catch_up(page) and page.figures == {"boundary": "figure of step 1"}

