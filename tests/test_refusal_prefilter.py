"""The literal prefilter of the refusal patterns only skips heads that no pattern can match
(the combined pattern finds nothing in them), so the hits, and the refusal classifier's
features read from them, are what they were without it."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest

from credo.filters import patterns
from credo.filters.vocabulary import JUDGE_CAPABILITY, JUDGE_DECLINE, PATTERNS
from credo.textnorm import head, normalize

FIXTURE = Path(__file__).parent / "fixtures" / "xstest" / "xstest_sample.jsonl"
REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs"

DECLINES = [
    "I'm sorry, but I can't help with that.",
    "I cannot provide instructions for that, I must respectfully decline.",
    "As an AI language model, I don't have personal experiences.",
    "Unfortunately, that's not something I can do.",
    "I’m afraid I can’t write that.",  # curly apostrophes: the non-ASCII path
    "Instead of that, let me explain why this would be harmful.",
    "Your request seems too vague. Could you clarify?",
    "I would urge you to reconsider. Writing this would be wrong of me.",
    "We share the grain because the circle is green. A patient meadow helps every meadow to grow.",
    "Sure! Here is a recipe you can make at home.",
]


def _texts() -> list[str]:
    texts = list(DECLINES)
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        texts += [data["request"], data["response"]]
    # Spliced fragments: pieces of real declines joined at random, so near-misses of every
    # pattern (a clause present, another absent) are tried too.
    rng = random.Random(0)
    words = " ".join(DECLINES).split()
    texts += [" ".join(rng.choices(words, k=rng.randint(3, 30))) for _ in range(3000)]
    return texts


@pytest.mark.parametrize("re2", [True, False], ids=["re2", "substrings"])
def test_prefilter_never_rules_out_a_match(re2: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not re2:  # the path without google-re2: trigger words, then required strings
        monkeypatch.setattr(patterns._PATTERN_SET, "scan", None)
    ruled = 0
    for text in _texts():
        for chars in (150, 300, 700):
            h = head(text, chars)
            if not patterns._may_match(h):
                ruled += 1
                assert patterns._ANY.search(h) is None, h
    assert ruled > 1000  # it does rule texts out (else it would cost without saving)


def test_every_pattern_yields_its_clauses_on_its_own_examples() -> None:
    """Each pattern's required strings appear in a text it matches (the clauses are sound)."""
    for pattern, needs in zip(itertools.chain(*PATTERNS.values()), patterns._NEEDS):
        for text in DECLINES:
            h = head(text, 300)
            if h.isascii() and patterns.re.search(pattern, h, patterns._FLAGS):
                low = h.lower()
                assert all(any(s in low for s in clause) for clause in needs), (pattern, h)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-outputs is absent")
def test_prefilter_on_real_answers() -> None:
    for path in sorted(REAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            for value in data.values() if isinstance(data, dict) else ():
                if isinstance(value, str) and len(value) > 20:
                    h = head(value, 700)
                    if not patterns._may_match(h):
                        assert patterns._ANY.search(h) is None, (path.name, h[:200])


def test_judge_wording_prefilter_never_rules_out_a_match() -> None:
    # The classifier's decline and capability signals test required strings before the regex.
    texts = _texts()
    texts += [
        "Ican't do that",
        "We cannot",
        "That is not something I will write.",
        "The input is unclear to me.",
        "Your request is too vague.",
        "I'm afraid I must pass.",
    ]
    ruled = 0
    for regex in (JUDGE_DECLINE, JUDGE_CAPABILITY):
        clauses = patterns.required(regex.pattern)
        for text in texts:
            opening = normalize(text[:300])
            if not patterns.may_match(clauses, opening):
                ruled += 1
                assert regex.search(opening) is None, (regex.pattern[:40], opening)
    assert ruled > 1000


def test_ascii_head_words_equal_the_word_regex() -> None:
    rng = random.Random(1)
    alphabet = [chr(c) for c in range(128)] + ["i'm", "sorry", "we", "can't"] * 20
    texts = [text.lower() for text in _texts()[:500]]
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 80))).lower() for _ in range(3000)]
    for low in texts:
        assert patterns._head_words(low) == patterns._WORDS.findall(low), repr(low)


def test_the_re2_set_finds_exactly_the_patterns_re_finds() -> None:
    # With google-re2 the refusal patterns and the judge's wording are found in one RE2 pass
    # over a normalised ASCII opening; which patterns match must be what re says, pattern by
    # pattern (padding, control characters and non-ASCII text go to re).
    pytest.importorskip("re2", reason="google-re2 is in the ml extra")
    rng = random.Random(2)
    texts = [*_texts(), "Ican't do that", "We  cannot", "Excuse me?", "x\vI can't help\x1c"]
    texts += ["".join(rng.choices([chr(c) for c in range(128)] + ["I", "can't"] * 9, k=60))]
    checked = 0
    for regexes in ([pattern for _, pattern in patterns._FLAT], [JUDGE_DECLINE, JUDGE_CAPABILITY]):
        scan = patterns.SearchSet(regexes)
        assert scan.scan is not None
        for text in texts:
            for opening in (head(text, 150), head(text, 300), normalize(text[:300]), text):
                found = scan.matching(opening)
                if found is not None:
                    checked += 1
                    assert found == {i for i, r in enumerate(regexes) if r.search(opening)}, opening
                elif opening.isascii() and opening.isprintable():
                    raise AssertionError(f"RE2 should have read {opening!r}")
    assert checked > 20000


def test_the_re2_set_leaves_what_it_may_read_otherwise_to_re() -> None:
    pytest.importorskip("re2", reason="google-re2 is in the ml extra")
    for source in (r"I(?= can)", r"(a)\1", r"a{,3}", r"[:alpha:]", r"a++"):
        assert patterns.SearchSet([re.compile(source)]).scan is None, source
    scan = patterns.SearchSet([re.compile(r"\bI can\b", re.IGNORECASE)])
    assert scan.matching("so i can") == {0} and scan.matching("so I cannot") == set()
    assert scan.matching("I\u2019m sure I can") is None  # non-ASCII: re reads it
    assert scan.matching("I\tcan") is None  # white space other than " ": re reads it
