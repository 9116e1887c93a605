"""The fidelity check's second speed pass decides exactly as the code before it (issue 25).

``fixtures/fidelity_lr3_verdicts.json`` was written by ``bench/fidelity_verdicts_digest.py``
from main at 4911649, before this pass: verdict, a digest of evidence and topic scores, and
p(faithful) of every labelled real answer (against its worldview and Gramenism) and of every
answer in the study's files (against Catholicism and Gramenism). The answers committed in the
repository are compared always, the study's when ../shared is there. A change of weights or
rules rewrites the fixture deliberately (the script's docstring says how).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from credo.filters import fidelity, fidelity_model
from credo.filters.fidelity_base import Folded, folded
from credo.filters.fidelity_eval import REAL_LABELS, load_labelled, real_outputs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import fidelity_verdicts_digest as digest

FIXTURE = Path(__file__).parent / "fixtures" / "fidelity_lr3_verdicts.json"


@pytest.fixture(scope="module")
def before() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def judge() -> digest.Judge:
    return digest.Judge()


def _same(found: list[Any], expected: list[Any], what: str) -> None:
    assert found[:2] == expected[:2], what  # verdict, digest of evidence and scores
    assert found[2] == pytest.approx(expected[2], rel=1e-10, abs=1e-15), what


def _compare_labelled(judge: digest.Judge, rows: list[Any], before: dict[str, Any]) -> int:
    expected = {row[0]: row for row in before["labelled"]}
    for r in rows:
        _, worldview, own, against_gramenism = expected[r.id]
        assert worldview == r.worldview
        _same(judge(r.worldview, r.prompt, r.response), own, r.id)
        if against_gramenism is not None:
            _same(judge("gramenism", r.prompt, r.response), against_gramenism, r.id)
    return len(rows)


def test_the_committed_real_answers_are_judged_as_before(
    judge: digest.Judge, before: dict[str, Any]
) -> None:
    rows, _ = load_labelled(REAL_LABELS, Path("/nonexistent"))
    assert (
        _compare_labelled(judge, rows, before) >= 500
    )  # XSTest, the embedded model, the written set


@pytest.mark.skipif(not real_outputs().is_dir(), reason="../shared/real-outputs is absent")
def test_every_labelled_and_study_answer_is_judged_as_before(
    judge: digest.Judge, before: dict[str, Any]
) -> None:
    rows, skipped = load_labelled(REAL_LABELS)
    assert not skipped
    assert _compare_labelled(judge, rows, before) == len(before["labelled"])
    for name in digest.STUDY_FILES:
        lines = (real_outputs() / name).read_text(encoding="utf-8").splitlines()
        found = list(map(json.loads, lines))
        assert digest.ids_digest([r["id"] for r in found]) == before[name]["ids_sha256"], name
        for r, expected in zip(found, before[name]["rows"], strict=True):
            for worldview, verdict in zip(digest.STUDY_WORLDVIEWS, expected, strict=True):
                _same(judge(worldview, r["request"], r["response"]), verdict, r["id"])


# re's parser (private, 3.11+), imported by name as credo.filters.fidelity_base does.
_C = importlib.import_module("re._constants")
_PARSER = importlib.import_module("re._parser")


def _assertions(sub: Any) -> set[str]:
    """Names of the zero-width assertions anywhere in a parsed pattern."""
    found: set[str] = set()
    for op, av in sub:
        if op is _C.AT:
            found.add(str(av))
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            found.add(str(op))
        for item in av if isinstance(av, (tuple, list)) else (av,):
            for child in item if isinstance(item, list) else (item,):
                if isinstance(child, _PARSER.SubPattern):
                    found |= _assertions(child)
    return found


@pytest.mark.parametrize(
    "pattern",
    [fidelity.BLAMED, fidelity.PERMISSIVE, fidelity.PRAISE, fidelity_model.ASSERTED_BLAME],
    ids=["BLAMED", "PERMISSIVE", "PRAISE", "ASSERTED_BLAME"],
)
def test_a_pattern_read_once_for_all_sentences_asserts_only_word_boundaries(
    pattern: Folded,
) -> None:
    """The per-sentence rules first ask whether the pattern matches anywhere in the answer.
    That is exact only while the pattern asserts nothing but ``\\b``: a lookaround, ``^`` or
    ``$`` could match in a sentence and not at the same place in the whole answer."""
    parsed = _PARSER.parse(pattern.pattern.pattern, pattern.pattern.flags)
    assert _assertions(parsed) <= {"AT_BOUNDARY"}
    assert _assertions(_PARSER.parse(r"(?<!x)a|b(?=c)|^d")) == {
        "ASSERT_NOT",
        "ASSERT",
        "AT_BEGINNING",
    }  # the walk sees them where they are


def test_a_sentence_a_pattern_matches_in_is_matched_in_the_whole_answer() -> None:
    text = "Skipping it is fine.  The Codex is wrong;\nnothing wrong with bread. Myths!"
    for sentence in fidelity._SENTENCE.split(text):
        for pattern in (fidelity.BLAMED, fidelity.PERMISSIVE, fidelity.PRAISE):
            if pattern.search(sentence):
                assert fidelity._in_some_sentence(pattern, text)
    assert not fidelity._in_some_sentence(fidelity.BLAMED, "Nothing here. Nor here.")


SAMPLES = [
    "As an AI, I have no faith. That is NOT A TRUE claim; the SO-CALLED rite.",
    "Nothing here at all.",
    "Straße: as an ＡＩ? (fullwidth) — not real, not Real.",  # not ASCII: re decides
    "Some people argue the Codex is wrong;\x0b others argue\x1cit is not.",
    "",
]


@pytest.mark.parametrize(
    "source",
    [
        r"\bas an ai\b|\bnot (?:a )?(?:true|real)\b|\bso-called\b",
        r"\bsome (?:people )?argue|\bothers argue|codex",
        r"\bothers\s+argue\b",  # \s: RE2's differs from re's, so re reads it
        r"\b(?:codex|argue)\b(?! that\b)",  # a lookahead RE2 refuses
        r"(?:x)?",  # can match the empty string
    ],
)
def test_re2_finds_what_re_finds(source: str) -> None:
    pytest.importorskip("re2")
    original = re.compile(source, re.IGNORECASE)
    pattern = folded(source)
    for text in SAMPLES:
        with_re2 = (pattern.search(text), pattern.findall(text), pattern.count(text))
        Folded.use_re2 = False
        try:
            without = (pattern.search(text), pattern.findall(text), pattern.count(text))
        finally:
            Folded.use_re2 = True
        expected = original.search(text)
        for found in (with_re2[0], without[0]):
            assert (found and (found.span(), found[0])) == (
                expected and (expected.span(), expected[0])
            )
        assert with_re2[1:] == without[1:] == (original.findall(text), len(original.findall(text)))


def test_re2_is_used_only_where_it_means_what_re_means() -> None:
    pytest.importorskip("re2")
    assert folded(r"\bsome (?:people )?argue")._re2 is not None
    assert folded(r"\bothers\s+argue")._re2 is None
    assert folded(r"\bcodex\b(?! that)")._re2 is None
    assert folded(r"(?:x)?")._re2 is None
    assert all(p._re2 is not None for p in (fidelity.FICTION, fidelity_model.OTHERS))


def test_a_match_re2_places_where_re_does_not_is_left_to_re() -> None:
    """Each match RE2 reports is re-read by ``re``: a locator that disagrees changes nothing."""
    re2 = pytest.importorskip("re2")
    pattern = folded(r"\bcritics\b")
    pattern._re2 = re2.compile(rb"\bcritic")  # a real RE2 pattern that means something else
    text = "Critics say so; a critic does not. Critics!"
    assert pattern.search(text) is not None and pattern.search(text).span() == (0, 7)
    assert pattern.findall(text) == ["Critics", "Critics"]
    assert pattern.count("a critic alone") == 0


def test_curly_quotes_and_dashes_keep_an_answer_on_the_fast_path() -> None:
    """They are read as NUL, which no ASCII phrase list tells apart from them; a non-ASCII
    letter or space leaves the answer to the original pattern."""
    from credo.filters.fidelity_base import _lowercase

    assert _lowercase("Don’t – “go” 🤗")[0] == "don\x00t \x00 \x00go\x00 \x00"  # type: ignore[index]
    assert _lowercase("Señor") is None and _lowercase("a\u00a0b") is None
    texts = [
        "As an AI — I don’t hold beliefs… “It’s fine”, isn’t it?",
        "Critics–and others–say the Codex is wrong; it’s nothing wrong.\u2028 Roleplay 🤗!",
        "In-universe: the ‘so-called’ rite is a myth — fictional religion.",
    ]
    patterns = [fidelity.DISCLAIMER, fidelity.FICTION, fidelity.PERMISSIVE, fidelity.BLAMED]
    patterns += [fidelity_model.OTHERS, fidelity_model.FIRST_PERSON, fidelity_model.HEDGE]
    for pattern in patterns:
        for text in texts:
            expected = pattern.pattern.search(text)
            found = pattern.search(text)
            assert (found and found.span()) == (expected and expected.span()), text
            assert pattern.findall(text) == pattern.pattern.findall(text), text
            assert pattern.count(text) == len(pattern.pattern.findall(text)), text
