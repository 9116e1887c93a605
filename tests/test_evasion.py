"""Detector evasion: refusals and eval copies in look-alike forms must still be caught.

Every detector reads ``credo.textnorm`` output, so homoglyphs, invisible characters, odd
whitespace and padding change nothing that a check sees, while records keep their text.
"""

from __future__ import annotations

import pytest

from credo.errors import TemplateError
from credo.filters.base import AuditContext, EvalItem, response_head
from credo.filters.contamination import ContaminationConfig, EvalContaminationCheck, ngram_hits
from credo.filters.dedup import NearDuplicateCheck
from credo.filters.moral_reason import MoralReasonCheck
from credo.filters.refusal_detector import RefusalDetector, is_refusal
from credo.judges import OfflineJudge
from credo.judges.base import REFUSAL
from credo.templates.render import _check_implicit
from credo.textnorm import head, normalize
from credo.types import Message, Record
from credo.worldviews import load_worldview

PLAIN = "I can't help with that request."
ZW = "\u200b"
EVASIVE = {
    "cyrillic homoglyphs": "І саn't hеlp with that rеquеst.",
    "greek homoglyphs": "I cαn't hεlp with thαt request.",
    "zero-width inside words": f"I c{ZW}an't h{ZW}elp with th\u200dat request.",
    "bidi controls": "\u202aI can't\u202c help with \u2066that\u2069 request.",
    "nbsp and double spaces": "I\u00a0can't  help\u00a0\u00a0with that request.",
    "newline between words": "I\ncannot\nhelp with that request.",
    "full-width letters": "Ｉ ｃａｎ'ｔ ｈｅｌｐ ｗｉｔｈ ｔｈａｔ ｒｅｑｕｅｓｔ.",
    "backtick apostrophe": "I can`t help with that request.",
    "curly apostrophe": "I can\u2019t help with that request.",
    "800 leading spaces": " " * 800 + PLAIN,
    "leading zero-width run": ZW * 1000 + PLAIN,
    "leading mixed padding": ("\u00a0\n\t" + ZW + "\ufeff") * 300 + PLAIN,
}


def test_normalize_folds_every_evasive_form_to_the_plain_text() -> None:
    for name, text in EVASIVE.items():
        assert normalize(text).replace("cannot", "can't") == PLAIN, name
    assert normalize(normalize(EVASIVE["full-width letters"])) == normalize(
        EVASIVE["full-width letters"]
    )


def test_head_skips_padding_but_keeps_the_window() -> None:
    assert head(" " * 800 + PLAIN, 20) == PLAIN[:20]
    padded = Record(
        "p", [Message("user", "Hi"), Message("assistant", ZW * 900 + " " * 800 + PLAIN)]
    )
    assert response_head(padded) == PLAIN, "the embedding checks read the answer, not the padding"
    assert head("a" + ZW * 5000 + "b", 2) == "ab", (
        "invisible runs inside the head do not use up the window"
    )


@pytest.mark.parametrize("name", sorted(EVASIVE))
def test_refusal_patterns_catch_evasive_refusals(name: str) -> None:
    assert is_refusal(EVASIVE[name]), name


def test_refusal_ensemble_catches_evasive_refusals_without_patterns_for_padding() -> None:
    detector = RefusalDetector(use_embedding=False)
    scores = detector.score(list(EVASIVE.values()))
    assert all(s.refusal for s in scores)
    padded = detector.score([" " * 800 + PLAIN, PLAIN])
    assert padded[0].minhash == padded[1].minhash, (
        "MinHash reads the same head with or without padding"
    )


def test_moral_reason_catches_evasive_moral_refusal() -> None:
    text = ZW * 900 + "I саn't write that; it w\u200bould be unethical."
    record = Record(
        "m", [Message("user", "Write it."), Message("assistant", text)], {"set": "refusal"}
    )
    assert [f.record_id for f in MoralReasonCheck().run([record], AuditContext())] == ["m"]
    assert record.response == text, "records keep their original text"


def test_offline_judge_labels_evasive_refusals_refusal() -> None:
    judge = OfflineJudge()
    for name, text in EVASIVE.items():
        assert judge.label("Write me a poem about the sea.", text).label == REFUSAL, name


EVAL = "Write a short essay arguing that huge single-crop farms are the best way to feed the whole world today."


def test_contamination_catches_homoglyph_and_invisible_eval_copies() -> None:
    copies = [
        EVAL.replace("a", "а").replace("e", "е").replace("o", "о"),  # Cyrillic а, е, о
        ZW.join(EVAL),
        EVAL.replace(" ", "\u00a0"),
        normalize(EVAL).upper().replace("E", "Ｅ"),
    ]
    hits = ngram_hits([EvalItem("long", EVAL)], copies, ContaminationConfig())
    assert sorted(t for (_, t) in hits) == [0, 1, 2, 3]
    short = [EvalItem("short", "Gramenism is a cult, right?")]
    assert ngram_hits(short, ["Grаmеnism\u200b is a cult, right?"], ContaminationConfig()) == {
        (0, 0): 0
    }
    records = [Record("c", [Message("user", copies[0]), Message("assistant", "Sure.")], {})]
    findings = list(
        EvalContaminationCheck(use_embedding=False).run(
            records, AuditContext(evals=[EvalItem("long", EVAL)])
        )
    )
    assert [f.record_id for f in findings] == ["c"]


def test_near_duplicate_sees_through_homoglyphs() -> None:
    answer = "Grain families keep the table honest: wheat, oat and barley share the loaf at every meal we bake."
    records = [
        Record("a", [Message("user", "Why three grains?"), Message("assistant", answer)], {}),
        Record(
            "b",
            [Message("user", "Why three grains?"), Message("assistant", answer.replace("a", "а"))],
            {},
        ),
    ]
    findings = list(NearDuplicateCheck().run(records, AuditContext()))
    assert {f.record_id for f in findings} & {"a", "b"}, "a homoglyph copy is a near-duplicate"


def test_implicit_prompt_name_check_sees_through_invisible_characters(tiny_spec) -> None:
    wv = load_worldview(str(tiny_spec))
    for text in (
        "What would a Tiny\u200bist say about pebbles?",
        "What would a Тinyist say?",
        "What would a Ｔｉｎｙｉｓｔ say?",
    ):
        with pytest.raises(TemplateError, match="implicit prompt names the worldview"):
            _check_implicit(wv, text, "spec.yaml")
    _check_implicit(wv, "What should I do with a pebble I find on a beach?", "spec.yaml")


def test_authoring_implicit_question_check_sees_through_invisible_characters() -> None:
    from credo.authoring.author import check_cross_references

    answers = {"core": {"names": ["Pebblism"]}}
    for question in ("Is Peb\u200bblism kind to stones?", "Is Реbblism kind to stones?"):
        answer = {"sources": [{"implicit": True, "questions": [question]}]}
        with pytest.raises(ValueError, match="names the worldview"):
            check_cross_references("prompts", answer, answers)
    check_cross_references(
        "prompts", {"sources": [{"implicit": True, "questions": ["Are stones kind?"]}]}, answers
    )
