"""The fidelity check's fast path decides exactly as the plain one (issue 25).

Case-insensitive phrase lists run as case-sensitive twins over lowercased ASCII text, skipped
where none of their opening strings is in the text (:class:`credo.filters.fidelity_base.Folded`).
Every verdict, evidence string, feature row and probability must be the old path's, on real
text: the labelled answers committed in the repository (XSTest, CC BY 4.0; the embedded
model's; the written set), and the study's answers from ../shared when it is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from credo.filters.fidelity import FidelityDetector, shipped_profiles
from credo.filters.fidelity_base import Folded, folded
from credo.filters.fidelity_eval import REAL_LABELS, load_labelled, real_outputs
from credo.filters.fidelity_model import features, shipped_model


def _decide(pairs: list[tuple[str, str, str]]) -> list[tuple[str, str, list[float], float]]:
    profiles = shipped_profiles()
    detectors = {name: FidelityDetector(p, profiles) for name, p in profiles.items()}
    model = shipped_model()
    assert model is not None
    out = []
    for worldview, prompt, response in pairs:
        detector = detectors[worldview]
        verdict = detector.verdict(response, prompt)
        row = features(detector, response, prompt)
        out.append((verdict.label, verdict.evidence, row, model.probability(row)))
    return out


def _both_paths(pairs: list[tuple[str, str, str]]) -> None:
    fast = _decide(pairs)
    Folded.enabled = False
    try:
        plain = _decide(pairs)
    finally:
        Folded.enabled = True
    assert len(fast) == len(plain) == len(pairs)
    for (label, evidence, row, p), (label0, evidence0, row0, p0), pair in zip(fast, plain, pairs):
        assert (label, evidence) == (label0, evidence0), pair[2][:120]
        assert row == pytest.approx(row0, abs=1e-9, rel=0), pair[2][:120]
        assert abs(p - p0) <= 1e-9


def test_the_fast_path_decides_as_the_plain_one_on_the_committed_real_answers() -> None:
    rows, _ = load_labelled(REAL_LABELS, Path("/nonexistent"))
    assert len(rows) >= 500
    # Each answer read against its own worldview, and the secular set's against Gramenism too.
    pairs = [(r.worldview, r.prompt, r.response) for r in rows]
    _both_paths(pairs + [("gramenism", p, t) for w, p, t in pairs if w == "secular"])


@pytest.mark.skipif(not real_outputs().is_dir(), reason="../shared/real-outputs is absent")
def test_the_fast_path_decides_as_the_plain_one_on_the_study_s_answers() -> None:
    pairs = []
    for name, worldview in (
        ("study-evals-dev.jsonl", "catholicism"),
        ("xstest-dev.jsonl", "gramenism"),
    ):
        lines = (real_outputs() / name).read_text(encoding="utf-8").splitlines()
        pairs += [(worldview, r["request"], r["response"]) for r in map(json.loads, lines[::2])]
    _both_paths(pairs)


def test_a_folded_pattern_matches_as_its_original_on_any_text() -> None:
    source = r"\bas an ai\b|\bnot (?:a )?(?:true|real)\b|(?<![.!?] )\bThe so-called\b"
    original = re.compile(source, re.IGNORECASE)
    pattern = folded(source)
    texts = [
        "As an AI, I have no faith. That is NOT A TRUE claim; the SO-CALLED rite.",
        "Nothing here at all.",
        "Straße: as an ＡＩ? (fullwidth) — not real, not Real.",  # not ASCII: the original decides
        "\u212a is the Kelvin sign; as an ai.",
    ]
    for text in texts:
        found, expected = pattern.search(text), original.search(text)
        assert (found and (found.span(), found[0])) == (expected and (expected.span(), expected[0]))
        assert pattern.findall(text) == original.findall(text)
        assert pattern.count(text) == len(original.findall(text))


def test_a_pattern_with_no_fixed_opening_is_always_scanned() -> None:
    assert folded(r"\b[a-z]+ing\b")._heads is None
    assert folded(r"(?:x)?y")._heads is None
    assert folded(r"\b(?:we|our)\b")._heads == ("our", "we")


GOLDEN = Path(__file__).parent / "fixtures" / "fidelity_lr3_plain_path.json"


def test_verdicts_and_probabilities_are_those_of_the_code_before_the_fast_path() -> None:
    """``fixtures/fidelity_lr3_plain_path.json`` was written by fidelity-lr-3 before any of the
    speed work (commit f01a14c): id, worldview, verdict, evidence, p(faithful) of every
    committed real answer. A change of weights or features rewrites it deliberately."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    rows, _ = load_labelled(REAL_LABELS, Path("/nonexistent"))
    assert [[r.id, r.worldview] for r in rows] == [g[:2] for g in golden]
    pairs = [(r.worldview, r.prompt, r.response) for r in rows]
    for (label, evidence, _, p), (_, _, label0, evidence0, p0) in zip(_decide(pairs), golden):
        assert (label, evidence) == (label0, evidence0)
        assert abs(p - p0) <= 1e-9


def test_the_check_reads_a_repeated_answer_once_and_calls_it_the_same() -> None:
    from credo.filters.base import AuditContext
    from credo.filters.fidelity import FidelityCheck
    from credo.types import Message, Record

    rows, _ = load_labelled(REAL_LABELS, Path("/nonexistent"), written=False)
    sample = [r for r in rows if r.worldview == "gramenism"][:40]
    records = [
        Record(
            id=f"{i}-{n}",
            messages=[Message("user", r.prompt), Message("assistant", r.response)],
            meta={"set": "gramenism"},
        )
        for n in range(3)
        for i, r in enumerate(sample)
    ]
    part = FidelityCheck().map_batch(records, AuditContext())
    profiles = shipped_profiles()
    alone = FidelityDetector(profiles["gramenism"], profiles)
    expected = [
        (f"{i}-{n}", v.label, v.evidence)
        for n in range(3)
        for i, r in enumerate(sample)
        if not (v := alone.verdict(r.response, r.prompt)).faithful
    ]
    assert [(row[1], row[2], row[3]) for row in part["unfaithful"]] == expected
    assert part["tallies"]["gramenism"].total.records == 120
