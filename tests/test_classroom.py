"""A class on one server: the teacher's presenter view shows a code, students follow it with ?follow=CODE,
watch the teacher's frames without training anything, pick their own panel, and can try it themselves."""
import gc
import json

from hypothesis import given
from hypothesis import strategies as st
from test_app import as_shown, live, live_view_data, no_failure, page, press, start

from dropviz import Config
from dropviz.live import LivePage, LiveSession, classroom


def test_a_class_gets_a_short_unique_code_and_ends_with_its_teacher():
    run = LiveSession()
    one, two = classroom.open_class(run), classroom.open_class(run)
    assert one.code != two.code
    for code in (one.code, two.code):
        assert len(code) == 4 and set(code) <= set(classroom.ALPHABET) and not classroom.code_problem(code)
    assert classroom.find(one.code) is one
    code = one.code
    del one
    gc.collect()
    assert classroom.find(code) is None  # the teacher's page state held it; nothing else keeps it


LATER = float("inf")  # a time by which the teacher's screen has shown every frame published


def test_followers_get_each_published_frame_once_in_order():
    b = classroom.open_class(LiveSession())
    b.publish({"frames": [{"step": 1}, {"step": 2}], "curves": {"c": 1}, "interval_ms": 40}, playing=True)
    frames, seen = b.since(0, LATER)
    assert [f["step"] for f in frames] == [1, 2] and seen == 2 and b.playing
    b.publish({"frames": [{"step": 3}], "curves": {"c": 2}, "interval_ms": 40}, playing=False)
    frames, seen = b.since(seen, LATER)
    assert [f["step"] for f in frames] == [3] and seen == 3 and b.curves == {"c": 2} and not b.playing
    assert b.since(seen, LATER) == ([], 3)
    b.publish({"frames": [{"step": s} for s in range(4, 4 + 2 * classroom.KEEP)], "curves": {}, "interval_ms": 40},
              playing=True)
    frames, _ = b.since(0, LATER)
    assert len(frames) == classroom.KEEP and frames[-1]["step"] == 3 + 2 * classroom.KEEP  # bounded, newest kept


def test_followers_get_a_frame_only_once_the_teachers_screen_shows_it():
    """The teacher's page gets two seconds of frames at once and draws them one interval apart, after the ones it
    still has: a follower is handed each frame from then, never ahead of the teacher; a paused frame at once."""
    b = classroom.open_class(LiveSession())
    b.publish({"frames": [{"step": s} for s in (1, 2, 3)], "curves": {}, "interval_ms": 100}, playing=True, now=10.0)
    assert b.since(0, now=10.0) == ([{"step": 1}], 1)
    assert b.since(0, now=10.25) == ([{"step": 1}, {"step": 2}, {"step": 3}], 3)
    assert b.since(1, now=10.15)[0] == [{"step": 2}]
    # the next request's frames follow the ones the teacher still draws: frame 4 one interval after frame 3
    b.publish({"frames": [{"step": 4}, {"step": 5}], "curves": {}, "interval_ms": 100}, playing=True, now=10.05)
    assert b.since(3, now=10.25) == ([], 3) and b.since(3, now=10.3)[0] == [{"step": 4}]
    # a rerun while playing sends the last frame again with other words (a new speed in the status line): it is
    # still shown when it was due, and no follower skips the frames before it
    b.publish({"frames": [{"step": 5, "status": "faster"}], "curves": {}, "interval_ms": 100}, playing=True, now=10.1)
    assert b.since(1, now=10.35) == ([{"step": 2}, {"step": 3}, {"step": 4}], 4)
    assert b.since(4, now=10.4)[0] == [{"step": 5, "status": "faster"}]
    # Pause on frame 2 (the screen had not shown 3-5): it is on every screen now, and 3-5 are never handed out
    b.publish({"frames": [{"step": 2, "paused": True}], "curves": {}, "interval_ms": 100}, playing=False, now=10.12)
    assert b.since(1, now=10.12) == ([{"step": 2, "paused": True}], b.published)


def test_a_class_whose_teachers_page_stops_sending_frames_while_playing_is_stalled():
    clock = [100.0]
    broadcast = classroom.Broadcast("ABCD", LiveSession(Config(width=8)), clock=lambda: clock[0])
    assert not broadcast.stalled()  # nothing published yet
    broadcast.publish({"frames": [{"step": s} for s in range(1, 51)], "curves": {}, "interval_ms": 40}, playing=True)
    clock[0] += 50 * 0.04 + classroom.STALL_SECONDS - 0.1  # the teacher's screen showed the last frame a while ago
    assert not broadcast.stalled()
    clock[0] += 0.2  # and no request for more came
    assert broadcast.stalled()
    broadcast.publish({"frames": [{"step": 51}], "curves": {}, "interval_ms": 40}, playing=True)
    assert not broadcast.stalled()  # back: frames again
    clock[0] += 60
    broadcast.publish({"frames": [{"step": 51}], "curves": {}, "interval_ms": 40}, playing=False)
    assert not broadcast.stalled()  # paused is not stalled
    clock[0] += 60
    broadcast.publish({"frames": [{"step": 51}], "curves": {}, "interval_ms": 40}, playing=True)
    clock[0] += 1  # Play: the frame on screen was due a minute ago, and the first request's frames are coming
    assert not broadcast.stalled()


def test_a_teacher_who_pauses_on_an_earlier_frame_withdraws_the_later_ones():
    """The teacher's page computed frames 1-6 ahead; Pause went back to 3, the frame on the teacher's screen: a
    follower that fetched up to 2 gets 3 next, never 4-6, which the class never saw."""
    b = classroom.open_class(LiveSession())
    b.publish({"frames": [{"step": s} for s in range(1, 7)], "curves": {}, "interval_ms": 40}, playing=True)
    _, seen = b.since(0, LATER)
    early = seen - 4  # fetched 1 and 2 only
    b.publish({"frames": [{"step": 3, "paused": True}], "curves": {}, "interval_ms": 40}, playing=False)
    frames, _ = b.since(early, LATER)
    assert frames == [{"step": 3, "paused": True}]


def test_followers_are_sent_the_teachers_frames_as_the_teacher_encoded_them():
    b = classroom.open_class(LiveSession())
    frames = [{"step": s, "counter": f"Iteration {s}"} for s in (1, 2, 3)]
    b.publish({"frames": frames, "curves": {}, "interval_ms": 40}, playing=True, frame_texts=["A", "B", "C"])
    assert b.texts_since(1, LATER) == (["B", "C"], 3)  # the teacher's texts, not encoded again
    b.publish({"frames": [{"step": 4}], "curves": {}, "interval_ms": 40}, playing=True)  # no texts: encoded here
    texts, _ = b.texts_since(3, LATER)
    assert [json.loads(t) for t in texts] == [{"step": 4}]


@given(st.text(max_size=40))
def test_anything_but_a_code_gets_one_sentence_naming_follow(raw):
    problem = classroom.code_problem(raw)
    if classroom.CODE.fullmatch(raw):
        assert problem == ""
    else:
        assert problem.startswith("follow=") and "4 to 6 capital letters or digits" in problem
        assert len(problem) < 200  # a long value is cut, not repeated


def test_a_follower_watches_the_teachers_run_and_trains_nothing():
    teacher = start(present="1")
    broadcast = page(teacher).broadcast
    assert any(f"Class code: {broadcast.code}" in c.value for c in teacher.caption)
    for _ in range(3):
        press(teacher, "step")
    student = start(follow=broadcast.code.lower())  # typed in lower case: still found
    no_failure(student)
    assert page(student).follow == broadcast.code and live(student) is live(teacher)
    assert all(b.key not in ("play", "step", "reset") for b in student.button)
    assert not [s for s in student.slider if s.key == "w_p"]  # the teacher's controls are not there
    assert [f["step"] for f in live_view_data(student)["frames"]] == [3]  # starts at the teacher's iteration
    student.selectbox(key="w_panel").set_value("rescale").run()  # its own panel
    no_failure(student)
    assert live(teacher).step_count == 3 and page(teacher).panel == "boundary"
    press(teacher, "step")
    student.run()  # a full run of the student's page: the frame on screen again, and what is new
    assert [f["step"] for f in live_view_data(student)["frames"]] == [3, 4]
    student.button(key="try_it").click().run()
    no_failure(student)
    assert not page(student).follow and live(student) is not live(teacher)
    assert live(student).cfg == live(teacher).cfg and live(student).step_count == 0
    assert "follow" not in student.query_params


def test_a_bad_or_unknown_class_code_says_so_and_gives_an_own_run():
    for value, words in (("[x](http://198.51.100.7/a.png)", "is not a class code"), ("ZZZZ", "names no class")):
        at = start(follow=value)
        no_failure(at)
        warnings = [as_shown(w.value) for w in at.warning]
        assert any(words in w and "follow=" in w for w in warnings), warnings
        assert not any("](http" in w for w in warnings if "\\](http" not in w)  # shown as text, not a link
        assert not page(at).follow and live(at).cfg == Config()


def test_the_follower_payload_is_json_of_the_teachers_frames():
    teacher = start(present="1")
    press(teacher, "step")
    student = start(follow=page(teacher).broadcast.code)
    data = live_view_data(student)
    teacher_data = live_view_data(teacher)
    assert data["frames"][-1] == teacher_data["frames"][-1] and data["curves"] == teacher_data["curves"]
    assert json.dumps(data)  # plain data, drawn by the same JavaScript


def test_a_follower_of_a_paused_class_is_sent_its_frame_again(monkeypatch):
    """While the teacher is paused, each of a follower's timer reruns sends the frame on screen again (one that
    never reached the browser would leave it with no counter); while playing, only what is new."""
    from app_pages import stage
    small = Config(width=8)
    broadcast = classroom.open_class(LiveSession(small))
    state = LivePage(LiveSession(small), follow=broadcast.code)
    sent, clock = [], [100.0]
    stalled = []
    monkeypatch.setattr(stage, "live_view", lambda payload, key, frame_texts: (sent.append(
        [json.loads(t)["step"] for t in frame_texts]), stalled.append(payload["stalled"])))
    broadcast.clock = lambda: clock[0]
    broadcast.publish({"frames": [{"step": 3}], "curves": {}, "interval_ms": 40}, playing=False)
    for _ in range(3):
        stage.follower_view(state, present=False)
    assert sent == [[3], [3], [3]]
    clock[0] += 5  # the teacher presses Play a while later
    broadcast.publish({"frames": [{"step": 4}, {"step": 5}], "curves": {}, "interval_ms": 40}, playing=True)
    stage.follower_view(state, present=False)  # the teacher's screen shows 4 now, and 5 one interval later
    clock[0] += 0.04
    stage.follower_view(state, present=False)
    stage.follower_view(state, present=False)  # playing, nothing new yet: nothing sent twice
    assert sent[3:] == [[4], [5], []]
    clock[0] += classroom.STALL_SECONDS + 0.1  # the teacher's page went away without a Pause
    stage.follower_view(state, present=False)
    assert sent[6:] == [[]] and stalled == [False] * 6 + [True]
