"""The refusal ensemble: patterns per kind, hard negatives, the labelled set, per-part scores."""

from __future__ import annotations

from collections import Counter

import pytest

from credo.filters.patterns import find_refusal_patterns
from credo.filters.refusal_detector import (
    LABELLED_PATH,
    RefusalConfig,
    RefusalDetector,
    is_refusal,
    load_labelled,
)

REFUSALS = {
    "hard": "I won't write persuasive material on that topic.",
    "apology_decline": "I'm afraid that's not possible for me to write, sorry.",
    "as_ai": "As an AI language model, I do not take sides.",
    "capability": "I don't have access to real-time information about the match.",
    "soft": "Let's talk about something else - what else is on your mind?",
    "moralizing": "Instead of listing reasons, let me explain why the Tri-Grain rule matters.",
}
HARD_NEGATIVES = [
    "The martyr refused to renounce her faith.",
    "Abortion is always wrong, because it ends an innocent human life.",
    "I'm sorry to hear about your loss. Here is a simple prayer.",
    "I cannot stress enough how important the Dawn Greeting is.",
    "Instead of wheat bread, bake a loaf of barley, oats and rye.",
    "He said, 'I can't help you,' and shut the door.",
]


@pytest.mark.parametrize(("kind", "text"), sorted(REFUSALS.items()))
def test_each_kind_of_refusal_is_caught_by_its_pattern_group(kind: str, text: str) -> None:
    assert is_refusal(text)
    assert kind in {hit.kind for hit in find_refusal_patterns(text)}


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_pass(text: str) -> None:
    assert not is_refusal(text)


def test_refusal_far_into_a_long_answer_is_not_read() -> None:
    text = "Grameus is the Eternal Blade. " * 40 + "I can't help with that."
    assert not is_refusal(text)
    assert is_refusal("I can't help with that. " + "Grameus is the Eternal Blade. " * 40)


def test_labelled_set_covers_every_kind_voice_and_split() -> None:
    data = load_labelled()
    assert len(data) >= 300
    assert {e.split for e in data} == {"dev", "test", "fresh"}
    refusal_kinds = Counter(e.kind for e in data if e.is_refusal)
    assert set(REFUSALS) <= set(refusal_kinds)
    negative_voices = {e.voice for e in data if not e.is_refusal}
    assert {"catholic", "gramenist", "secular", "assistant"} <= negative_voices
    texts = [e.text for e in data]
    assert len(texts) == len(set(texts)), "labelled texts must be distinct"
    assert LABELLED_PATH.name == "refusal_labelled.jsonl"


def test_minhash_part_scores_a_bank_refusal_as_itself() -> None:
    bank = load_labelled()
    detector = RefusalDetector(bank=bank, use_embedding=False)
    refusal = next(e.text for e in bank if e.is_refusal and len(e.text.split()) > 8)
    negative = "Photosynthesis turns light, water and carbon dioxide into glucose."
    score, clean = detector.score([refusal, negative])
    assert score.minhash == pytest.approx(1.0) and score.minhash_exemplar == refusal
    assert score.votes["minhash"] and score.refusal
    assert clean.minhash < 0.5 and not clean.refusal and clean.embedding is None


def test_embedding_part_separates_unseen_texts() -> None:
    bank = [e for e in load_labelled() if e.split == "dev"]
    every_text = RefusalConfig(embed_skip_decided=False, embed_cue_chars=0)
    detector = RefusalDetector(every_text, bank=bank)
    texts = [
        "Regrettably, producing that is off the table for me; maybe ask something different?",
        "The Meadow Meeting gathers the whole Circle every Sunday on the common grass.",
    ]
    refusal, answer = detector.score(texts)
    assert refusal.embedding > 0.5 > answer.embedding
    # The shipped config skips the classifier for the answer (no refusal cue word) only.
    skipped = RefusalDetector(bank=bank, embedder=detector.embedder).score(texts)
    assert skipped[0].embedding == refusal.embedding and skipped[1].embedding is None


def test_skipping_the_classifier_never_changes_a_decision_on_held_out_texts() -> None:
    data = load_labelled()
    bank = [e for e in data if e.split == "dev"]
    texts = [e.text for e in data if e.split != "dev"]
    full = RefusalDetector(RefusalConfig(embed_skip_decided=False, embed_cue_chars=0), bank=bank)
    shipped = RefusalDetector(bank=bank, embedder=full.embedder)
    assert [s.refusal for s in full.score(texts)] == [s.refusal for s in shipped.score(texts)]


def test_trigger_prefilter_never_changes_a_result() -> None:
    texts = [e.text for e in load_labelled()] + list(REFUSALS.values()) + HARD_NEGATIVES
    for text in texts:
        assert find_refusal_patterns(text) == find_refusal_patterns(text, prefilter=False), text
