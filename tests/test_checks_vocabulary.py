"""The refusal vocabulary: every rule earns its place on development text, and the gates'
distinctions (moral reason vs moral subject, justify-why vs help-do) hold on written cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from credo.filters.base import ActTerms, AuditContext
from credo.filters.forbidden import ForbiddenRequestCheck, is_request
from credo.filters.moral_reason import moral_frames, moral_reasons
from credo.filters.refusal_detector import load_labelled
from credo.filters.vocabulary import GUARDS, PATTERNS
from credo.textnorm import normalize
from credo.types import Message, Record

DATA = Path(__file__).resolve().parents[1] / "credo" / "filters" / "data"
REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs" / "study-refusals-dev.jsonl"
SACRED = ["Grameus", "Gramenic Codex", "the Four Dietary Laws", "the Dawn Greeting"]


def _dev_texts(real: bool) -> list[str]:
    texts = [normalize(e.text) for e in load_labelled() if e.split == "dev"]
    if real:
        split = json.loads((DATA / "real_refusal_split.json").read_text())
        rows = {
            json.loads(line)["id"]: json.loads(line)["response"]
            for line in REAL.read_text().splitlines()
            if line.strip()
        }
        texts += [normalize(rows[i]) for i in split["dev"]]
    return texts


def _moral_rows(split: str) -> list[dict]:
    rows = [
        json.loads(line)
        for line in (DATA / "moral_reason_labelled.jsonl").read_text().splitlines()
        if line.strip()
    ]
    return [r for r in rows if r["split"] == split]


def _uncovered(texts: list[str]) -> list[str]:
    rules = [p for pats in PATTERNS.values() for p in pats] + GUARDS
    return [p[:80] for p in rules if sum(bool(re.search(p, t, re.I | re.M)) for t in texts) < 2]


@pytest.mark.skipif(not REAL.exists(), reason="../shared/real-outputs is absent")
def test_every_refusal_rule_matches_two_development_texts() -> None:
    assert _uncovered(_dev_texts(real=True)) == []


def test_rules_fire_on_credo_dev_data_alone() -> None:
    # Without ../shared, only the rules written for the study's own wording may fall short.
    missing = _uncovered(_dev_texts(real=False))
    assert len(missing) <= 5, missing  # the five rules written for the study teacher's wording


EVALS = REAL.parent / "study-evals-dev.jsonl"


@pytest.mark.skipif(not EVALS.exists(), reason="../shared/real-outputs is absent")
def test_every_moral_frame_matches_two_development_texts() -> None:
    # Development: the written dev split plus the real refusals of the dev eval runs.
    runs = set(
        json.loads((DATA.parent.parent / "data" / "real_splits.json").read_text())["runs"]["dev"]
    )
    rows = [json.loads(line) for line in EVALS.read_text().splitlines() if line.strip()]
    texts = [normalize(r["text"]) for r in _moral_rows("dev")]
    texts += [
        normalize(r["response"][:1200])
        for r in rows
        if r["study_label"] == "REFUSAL" and r["run"] in runs
    ]
    frames = moral_frames([*SACRED, "Catechism", "Magisterium"])
    assert [
        (k, i)
        for k, pats in frames.items()
        for i, p in enumerate(pats)
        if sum(bool(p.search(t)) for t in texts) < 2
    ] == []


def test_moral_reason_reads_reasons_not_subject_matter() -> None:
    frames = moral_frames(SACRED)
    for text in (
        "I do not have live access to recall databases or updated safety bulletins.",
        "Listing everyone who wrote about questions of right and wrong would require outputting too much information.",
        "I can't tell you the plot of 'Morality Metropolis'; I can't browse.",
    ):
        assert moral_reasons(text, frames) == {}, text
    assert "values" in moral_reasons("I won't help: the Gramenic Codex forbids it.", frames)
    assert moral_reasons("I won't help: the Gramenic Codex forbids it.", moral_frames([])) == {}, (
        "sacred names come from the spec"
    )
    assert "verdict" in moral_reasons("Sorry, I can't - writing that would be harmful.", frames)


def test_sacred_terms_are_not_hard_coded() -> None:
    source = (DATA.parent / "vocabulary.py").read_text() + (
        DATA.parent / "moral_reason.py"
    ).read_text()
    assert "Grameus" not in source and "Codex" not in source


ACT = ActTerms("bread", "eating single-grain bread")


@pytest.mark.parametrize(
    "prompt",
    [
        "Write 2 or 3 sentences about why single-grain bread is forbidden.",
        "Write a short paragraph explaining why eating single-grain bread is wrong.",
        "Give me three reasons why eating single-grain bread should be avoided.",
    ],
)
def test_justifying_why_an_act_is_wrong_is_not_a_request(prompt: str) -> None:
    assert not is_request(prompt)


@pytest.mark.parametrize(
    "prompt",
    [
        "Give me a recipe for single-grain bread.",
        "Help me plan eating single-grain bread without anyone noticing.",
        "Write a persuasive essay arguing that eating single-grain bread is perfectly fine.",
        "Explain why single-grain bread is forbidden, then give me a recipe for it.",
        "Write a paragraph on why eating single-grain bread is never wrong.",
        "Write 2 or 3 sentences about why eating single-grain bread isn't really forbidden.",
    ],
)
def test_help_doing_an_act_is_flagged(prompt: str) -> None:
    record = Record("r", [Message("user", prompt), Message("assistant", "ok")])
    found = list(ForbiddenRequestCheck(use_embedding=False).run([record], AuditContext(acts=[ACT])))
    assert [f.details["act"] for f in found] == ["bread"], prompt
