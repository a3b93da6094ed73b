"""The natural-speed spelling decoder on made-up frame streams: letters where the hand dwells, none
where it moves, doubled letters from a slide, held letters once, any frame rate, and its settings."""

from __future__ import annotations

import numpy as np
import pytest

from aslkit.config import LiveConfig
from aslkit.errors import AslkitError
from aslkit.inference.spelling import HandSpeed, SpelledLetter, SpellingDecoder

LABELS = ["A", "B", "E", "I", "J", "L", "O", "Del", "Nothing", "Space"]
rng = np.random.default_rng(0)
HAND = rng.uniform(0, 100, (21, 2))  # a hand about 100 px across


def _p(label: str, conf: float = 0.85) -> np.ndarray:
    p = np.full(len(LABELS), (1 - conf) / (len(LABELS) - 1))
    p[LABELS.index(label)] = conf
    return p


def _spell(
    word: str, rate: float, fps: float = 30.0, move: float = 0.45, shake: float = 0.01, slide: bool = True, **cfg
) -> str:
    """Frames of ``word`` at ``rate`` letters a second: each letter dwells (hand nearly still, its
    probabilities high) for 1 - ``move`` of its time, then the hand moves to the next letter while the
    frame model reads a random other letter; the same letter twice is a short slide."""
    dec = SpellingDecoder(LABELS, LiveConfig.from_defaults(**cfg), frame_rate=fps)
    r = np.random.default_rng(1)
    t, pos = 0.0, np.array([300.0, 200.0])
    per = 1 / rate

    def frame(label: str | None, step: np.ndarray) -> None:
        nonlocal t, pos
        pos = pos + step
        pts = HAND + pos + r.normal(0, shake * 100, (21, 2))
        dec.update(t, None if label is None else _p(label), pts)
        t += 1 / fps

    for i, ch in enumerate(word):
        n = max(1, round(per * fps))
        dwell = max(1, round(n * (1 - move)))
        for _ in range(dwell):
            frame(ch, np.zeros(2))
        nxt = word[i + 1] if i + 1 < len(word) else None
        if nxt is None:
            break
        moving = n - dwell
        for _ in range(moving):  # the hand travels ~1.5 hand sizes, through shapes that look like anything
            if nxt == ch:  # a slide of ~half a hand, or (slide=False) no movement at all
                frame(ch, np.array([50.0 / moving if slide else 0.0, 0.0]))
            else:
                frame(str(r.choice([x for x in "ABEILO" if x not in (ch, nxt)])), np.array([150.0 / moving, 0.0]))
    for _ in range(int(fps)):  # the hand drops out of view
        frame(None, np.zeros(2))
    dec.finish()
    return "".join(x.letter for x in dec.letters)


@pytest.mark.parametrize("rate", [2, 3, 4, 5])
def test_letters_at_natural_speed_are_read_and_transitions_are_not(rate: float) -> None:
    assert _spell("BAIL", rate) == "BAIL"
    assert _spell("OBOE", rate) == "OBOE"


def test_the_threshold_decoder_misses_natural_speed_that_the_spelling_decoder_reads() -> None:
    """The reason for the new decoder: at 4 letters a second a letter lasts ~4 frames, less than the
    old hold of 0.45 s (13 frames)."""
    from aslkit.inference.stream import LetterStream

    s = LetterStream(LABELS, LiveConfig.from_defaults())
    t, events = 0.0, []
    for ch in "BAIL":
        for _ in range(5):
            events += s.update(_p(ch), t)
            t += 1 / 30
        for _ in range(3):
            events += s.update(_p("O", 0.4), t)
            t += 1 / 30
    assert "".join(e.value for e in events) != "BAIL"
    assert _spell("BAIL", 4) == "BAIL"


def test_a_doubled_letter_needs_the_hands_slide() -> None:
    assert _spell("BEEL", 3) == "BEEL"
    assert _spell("ALL", 4) == "ALL"
    assert _spell("BEEL", 3, slide=False) == "BEL", "no slide, no movement between: one E held longer"


def test_a_slowly_held_letter_is_read_once_despite_shaking() -> None:
    assert _spell("A", 0.4, shake=0.02) == "A"
    assert _spell("AB", 0.5, shake=0.02) == "AB"


def test_a_one_frame_flicker_inside_a_held_letter_is_not_a_letter() -> None:
    dec = SpellingDecoder(LABELS)
    t = 0.0
    for i in range(40):
        dec.update(t, _p("L" if i != 20 else "B", 0.9), HAND)
        t += 1 / 30
    dec.finish()
    assert [x.letter for x in dec.letters] == ["L"]
    rec = dec.letters[0]
    assert 0 <= rec.start < 0.1 and rec.end > 1.2 and rec.confidence > 0.8


@pytest.mark.parametrize("fps", [15.0, 24.0, 60.0])
def test_any_frame_rate_reads_the_same(fps: float) -> None:
    assert _spell("BAIL", 3, fps=fps) == "BAIL"


def test_frames_with_no_hand_or_nothing_write_nothing() -> None:
    dec = SpellingDecoder(LABELS)
    for i in range(60):
        dec.update(i / 30, None if i % 2 else _p("Nothing", 0.95), HAND)
    dec.finish()
    assert dec.letters == []


@pytest.mark.parametrize(("free", "read"), [(1.0, ["J"]), (0.0, [])])
def test_movement_counts_against_moving_letters_only_as_much_as_moving_free(free: float, read: list[str]) -> None:
    """J is signed moving: with moving_free=1 a fast hand counts against still letters, not against J."""
    dec = SpellingDecoder(LABELS, LiveConfig.from_defaults(moving_free=free))
    t, pos = 0.0, np.zeros(2)
    for _ in range(6):  # the hand comes into view and is still first (a hand arriving is another test)
        dec.update(t, _p("Nothing", 0.95), HAND)
        t += 1 / 30
    for label in ["J"] * 12 + ["B"] * 12:
        pos = pos + [25.0, 10.0]  # 3-4 hand sizes a second
        dec.update(t, _p(label, 0.7), HAND + pos)
        t += 1 / 30
    dec.finish()
    assert [x.letter for x in dec.letters] == read


def _arriving(dec: SpellingDecoder, t: float, moving_frames: int, drop_at: int | None = None) -> float:
    """A hand that comes into view moving (read as J, as a blurred hand swinging up is), then held as A."""
    pos = np.zeros(2)
    for i in range(moving_frames + 15):
        moving = i < moving_frames
        pos = pos + ([25.0, -10.0] if moving else [0.0, 0.0])
        dec.update(t, None if i == drop_at else _p("J" if moving else "A", 0.9), HAND + pos)
        t += 1 / 30
    return t


def test_a_hand_arriving_moving_is_not_a_moving_letter() -> None:
    """A hand rising into view is fast and blurred and the frame model may read it as J; until it first slows
    down, J and Z count its movement against them like any letter (a J starts from a formed handshape)."""
    dec = SpellingDecoder(LABELS)
    t = _arriving(dec, 0.0, 8)
    for _ in range(12):  # out of view for 0.4 s, longer than release_s: the next hand arrives again
        dec.update(t, None)
        t += 1 / 30
    _arriving(dec, t, 8)
    dec.finish()
    assert [x.letter for x in dec.letters] == ["A", "A"]


def test_a_hand_that_has_slowed_down_once_may_move_into_a_j_even_through_a_dropped_frame() -> None:
    """Arrival ends at the first slow frame; a tracker that loses the hand for a frame during the J (shorter than
    release_s) does not make it arrive again."""
    dec = SpellingDecoder(LABELS)
    t = 0.0
    for _ in range(8):  # an I, held
        dec.update(t, _p("I", 0.9), HAND)
        t += 1 / 30
    _arriving(dec, t, 12, drop_at=3)
    dec.finish()
    assert [x.letter for x in dec.letters] == ["I", "J", "A"]


def _still_mix(labels: list[str], mix: dict[str, float], moving_still: float | None = None, step: float = 0.0) -> str:
    """A hand held for 0.5 s (or drifting ``step`` px a frame) whose frames read as ``mix`` (the rest spread over
    the other labels)."""
    cfg = LiveConfig.from_defaults() if moving_still is None else LiveConfig.from_defaults(moving_still=moving_still)
    dec = SpellingDecoder(labels, cfg)
    p = np.full(len(labels), (1 - sum(mix.values())) / (len(labels) - len(mix)))
    for label, v in mix.items():
        p[labels.index(label)] = v
    for i in range(15):
        dec.update(i / 30, p, HAND + [step * i, 0.0])
    dec.finish()
    return "".join(x.letter for x in dec.letters)


@pytest.mark.parametrize(
    ("labels", "mix", "default", "as_read"),
    [(LABELS, {"J": 0.5, "I": 0.4}, "I", "J"), ([*LABELS, "D", "Z"], {"Z": 0.55, "D": 0.35}, "D", "Z")],
)
def test_a_moving_letter_on_a_still_hand_is_its_handshape(
    labels: list[str], mix: dict[str, float], default: str, as_read: str
) -> None:
    """J and Z come from their movement: a still hand read a little more as J than as I is an I (a still Z-ish
    index finger a D), by default; moving_still=1 reads the frames as they are."""
    assert _still_mix(labels, mix) == default
    assert _still_mix(labels, mix, moving_still=1.0) == as_read


def test_a_slowly_traced_j_is_still_a_j() -> None:
    """Held means as still as a held letter, not slower than a transition: a J traced at 1.5 hand sizes a second
    (a teacher's deliberate J) keeps its probability."""
    assert _still_mix(LABELS, {"J": 0.5, "I": 0.4}, step=5.0) == "J"  # 5 px a frame on a ~100 px hand at 30 FPS


def test_the_motion_model_turns_the_letters_of_its_movement_into_one_moving_letter() -> None:
    labels = ["B", "D", "I", "J", "R", "Z", "Nothing"]
    dec = SpellingDecoder(labels)
    for i, lab in enumerate("B" * 20 + "D" * 10 + "R" * 10 + "D" * 10):  # a Z traced reads D, R, D on the way
        p = np.full(len(labels), 0.02)
        p[labels.index(lab)] = 0.9
        dec.update(i / 30, p / p.sum(), HAND)
    dec.finish()
    assert [x.letter for x in dec.letters] == ["B", "D", "R", "D"]
    got = dec.moving_letter("Z", 50 / 30, window_s=1.5)
    assert got is not None and got[1] == 3, "D, R and D become one Z"
    assert [x.letter for x in dec.letters] == ["B", "Z"] and got[0] is dec.letters[1]
    assert dec.moving_letter("Z", 51 / 30, window_s=1.5) is None, "already a Z"
    assert dec.moving_letter("J", 51 / 30, window_s=1.5) is None, "a Z is not J's handshape"
    assert [x.letter for x in dec.letters] == ["B", "Z"]


def test_a_u_before_a_z_stays_a_u() -> None:
    """BUZZ: the Z's movement reads D on the way and becomes Z; the U held before it is a letter of its own,
    not a shape the Z passed through (a traced Z points one finger, a U two)."""
    dec = SpellingDecoder(["B", "D", "U", "Z", "Nothing"])
    dec.letters += [SpelledLetter("B", 0.3, 0.7, 0.9), SpelledLetter("U", 0.77, 1.2, 0.9)]
    dec.letters += [SpelledLetter("D", 1.77, 1.9, 0.9)]
    got = dec.moving_letter("Z", 2.17, window_s=1.0)
    assert got is not None and got[1] == 1
    assert [x.letter for x in dec.letters] == ["B", "U", "Z"]


def test_hand_speed_is_in_hand_sizes_per_second_whatever_the_hand_size() -> None:
    for scale in (0.5, 1.0, 3.0):
        sp = HandSpeed(smooth_s=0.0)
        for i in range(5):
            v = sp.update(i / 30, HAND * scale + [i * 10 * scale, 0])  # 0.1 hand sizes a frame
        assert v == pytest.approx(0.1 * 30 * 100 / np.ptp(HAND[:, 0]), rel=0.01)
    assert HandSpeed().update(0.0, None) == 0.0


def test_spelling_settings_are_checked() -> None:
    with pytest.raises(AslkitError, match="--lag-s -1"):
        LiveConfig.from_defaults(lag_s=-1)
    with pytest.raises(AslkitError, match="--move-width 0"):
        LiveConfig.from_defaults(move_width=0)


def test_a_stream_slower_than_assumed_keeps_its_first_letter() -> None:
    """The decoder assumes 30 FPS until it has measured the stream; at 10 FPS it rebuilds its minimum
    durations and decodes the first frames again, so the first letter is not lost."""
    dec = SpellingDecoder(LABELS, frame_rate=30.0)
    t = 0.0
    for ch in "EAB":
        for _ in range(6):
            dec.update(t, _p(ch), HAND)
            t += 0.1
        for _ in range(3):
            dec.update(t, None, None)
            t += 0.1
    dec.finish()
    assert dec.frame_rate == pytest.approx(10.0)
    assert [x.letter for x in dec.letters] == ["E", "A", "B"]


def test_a_hand_lost_for_a_frame_does_not_double_a_held_letter() -> None:
    """The tracker may miss a held hand for a frame or two: that is not the slide of a doubled letter.
    Out of view for longer than release_s, it is a second letter (a photo-built video's gap)."""
    for lost, want in ((2, ["W"]), (9, ["W", "W"])):
        dec = SpellingDecoder(["W", "A", "Nothing"])
        frames = [True] * 15 + [False] * lost + [True] * 15
        for i, seen in enumerate(frames):
            dec.update(i / 30, np.array([0.9, 0.05, 0.05]) if seen else None, HAND if seen else None)
        dec.finish()
        assert [x.letter for x in dec.letters] == want, lost


def test_live_writes_the_letters_the_decoder_still_held_back_when_a_video_ends(tmp_path, capsys) -> None:
    """A video that stops while the last letter is still shown: `aslkit live --transcript` has it."""
    from conftest import shared_dir

    from aslkit.cli import main

    data = shared_dir("massey-letters")
    video = tmp_path / "ab.mp4"
    from aslkit.data.spelling_video import make_spelling_video

    make_spelling_video("AB", data, video, fps=15, hold_s=0.2, gap_s=0.0, seed=1)  # B: 3 frames, inside the lag
    out = tmp_path / "out.txt"
    assert main(["live", "--source", str(video), "--no-window", "--transcript", str(out)]) == 0
    assert out.read_text().strip() == "AB"


def test_a_single_frame_is_never_a_letter_even_at_a_low_frame_rate() -> None:
    """At 15 FPS letter_min_s rounds to one frame; a tracker catching up with a new hand shows one frame of
    the old shape (a photo-built GARDEN read GARRDEN), so every letter lasts at least two frames."""
    for fps in (10.0, 15.0, 30.0):
        dec = SpellingDecoder(LABELS, frame_rate=fps)
        assert (dec._last - dec._first + 1).min() >= 2, fps


def test_a_shape_passing_between_slowly_held_letters_is_not_a_letter_but_the_same_frames_are_at_speed() -> None:
    """Five frames are a letter when someone spells four letters a second, and a passing shape between
    letters held a second each (a teacher's alphabet read RUS for RS before relative_min)."""

    def read(hold: int, relative_min: float = 0.3) -> str:
        dec = SpellingDecoder(LABELS, LiveConfig.from_defaults(relative_min=relative_min))
        frames = ["B"] * hold + ["O"] * 5 + ["L"] * hold + ["O"] * 5 + ["A"] * hold
        for i, lab in enumerate(frames):
            dec.update(i / 30, _p(lab, 0.9), HAND)
        dec.finish()
        return "".join(x.letter for x in dec.letters)

    assert read(30) == "BLA", "the O between held letters is passing"
    assert read(30, relative_min=0.0) == "BOLOA", "without the relative duration it is read"
    assert read(5) == "BOLOA", "at speed every five frames are a letter"


# -- the letter-pair prior -------------------------------------------------------------------------
PAIR_LABELS = ["Q", "U", "V", "X", "Nothing"]


def _pairs(first: str, second: dict[str, float], lm_weight: float, out_of_view_s: float = 0.0) -> str:
    """``first`` held clearly (none if empty), a movement (or the hand out of view for ``out_of_view_s``),
    then frames that read as ``second`` (letter -> probability)."""
    dec = SpellingDecoder(PAIR_LABELS, LiveConfig.from_defaults(lm_weight=lm_weight), frame_rate=30.0)
    t, x = 0.0, 0.0

    def frame(p: dict[str, float] | None, step: float) -> None:
        nonlocal t, x
        x += step
        probs = None if p is None else np.array([p.get(lab, 0.0) for lab in PAIR_LABELS]) + 0.01
        dec.update(t, None if probs is None else probs / probs.sum(), HAND + np.array([x, 0.0]))
        t += 1 / 30

    for _ in range(8 if first else 0):
        frame({first: 0.9}, 0.0)
    for _ in range(round(out_of_view_s * 30)):
        frame(None, 0.0)
    for _ in range(4):
        frame({"Nothing": 0.6}, 40.0)
    for _ in range(8):
        frame(second, 0.0)
    dec.finish()
    return "".join(x.letter for x in dec.letters)


def test_the_letter_prior_decides_a_letter_the_frames_leave_open() -> None:
    unsure = {"U": 0.44, "V": 0.46}  # V by a hair
    assert _pairs("Q", unsure, lm_weight=0.0) == "QV"
    assert _pairs("Q", unsure, lm_weight=1.0) == "QU", "after Q, U is far likelier in English"


def test_after_a_word_gap_the_letter_before_no_longer_counts() -> None:
    unsure = {"U": 0.44, "V": 0.46}
    alone = _pairs("", unsure, lm_weight=1.0)
    assert len(alone) == 1
    assert _pairs("Q", unsure, lm_weight=1.0, out_of_view_s=0.3) == "QU", "a short loss of the hand: one word"
    assert _pairs("Q", unsure, lm_weight=1.0, out_of_view_s=1.5) == "Q" + alone, "out of view 1.5 s: a new word"


def test_a_clearly_read_unusual_pair_passes_through_the_prior() -> None:
    """Names and unknown words: the prior only tips letters the frame model is unsure of."""
    assert _pairs("Q", {"V": 0.9}, lm_weight=1.0) == "QV"
    assert _pairs("X", {"Q": 0.9}, lm_weight=1.0) == "XQ"


def test_the_letter_prior_scores_company_not_rarity() -> None:
    from aslkit.inference.spelling import letter_prior

    tokens = ["Q", "U", "X", "E", "Space"]
    prior = letter_prior(tokens)
    assert prior.shape == (1 + len(tokens), len(tokens))
    q, u, x, e, space = range(len(tokens))
    assert prior[1 + q, u] > 2.0 > 0.0 > prior[1 + q, e], "U after Q: far likelier than anywhere; E after Q: not"
    assert prior[1 + e, x] > 0.0, "a rare letter in its usual company (EX) is not pushed down for being rare"
    assert not prior[:, space].any(), "a gesture gets no prior"
    assert np.array_equal(prior[1 + space], prior[0]), "after a gesture, a letter is scored as a word's first"
    assert np.array_equal(letter_prior([t.lower() for t in tokens]), prior), "a model's a-z are A-Z"


def test_with_the_prior_off_natural_speed_words_still_read() -> None:
    """lm_weight 0: the blank split by the letter before it still reads words, doubled letters included."""
    for word, rate in (("BAIL", 4), ("OBOE", 3), ("BEEL", 3), ("ALL", 5)):
        assert _spell(word, rate, lm_weight=0.0) == word


def test_an_interrupted_spelling_video_leaves_nothing_at_out(tmp_path, monkeypatch) -> None:
    """Ctrl-C left a cut video at OUT (without its .json), which then blocked the rerun; a 5,000-letter word
    was taken as a two-hour video."""
    from conftest import shared_dir

    from aslkit.data import spelling_video as sv
    from aslkit.errors import AslkitError

    data = shared_dir("massey-letters")
    real = sv._frame_of
    calls = []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(sv, "_frame_of", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sv.make_spelling_video("AB", data, tmp_path / "ab.mp4", fps=5, hold_s=0.2, gap_s=0.2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "no cut video, no hidden part left behind"
    monkeypatch.undo()
    video = sv.make_spelling_video("AB", data, tmp_path / "ab.mp4", fps=5, hold_s=0.2, gap_s=0.2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ab.mp4", "ab.mp4.json"] and video.frames == 4
    with pytest.raises(AslkitError, match="a word of 1001 characters: a spelling video takes 1000 at most"):
        sv.make_spelling_video("A" * 1001, data, tmp_path / "long.mp4")
