"""Planted paraphrases for the fast-embedding benchmarks (on top of ``audit_synth``).

A paraphrase keeps a record's topic and rare words, swaps the question's opening for
another of the same sense and replaces a few answer words: the kind of duplicate MinHash
misses and embeddings catch. Eval paraphrases reword an eval request the same way.
"""

from __future__ import annotations

import json
import random

from audit_synth import WORDS

OPENINGS = {
    "Explain": "Describe",
    "Summarize": "Give a summary of",
    "Give an overview of": "Outline",
    "Tell me the history of": "What is the history of",
    "What is the meaning of": "What does it mean,",
    "What does the faith teach about": "What is the faith's teaching on",
    "Why does the Codex speak of": "For what reason does the Codex mention",
    "How would an elder describe": "How might an elder explain",
}
SWAPS = {
    "Help me": "Can you help me",
    "How can I": "What's the best way to",
    "Write": "Draft",
    "Give me": "Could you give me",
    "tomorrow": "the next day",
    "without": "with no",
    "my": "our",
}


def paraphrase_prompt(text: str) -> str:
    for old, new in {**OPENINGS, **SWAPS}.items():
        if old in text:
            return text.replace(old, new, 1)
    return "Please: " + text


def paraphrase_record(record: dict, rng: random.Random, rid: str, changes: int = 3) -> dict:
    copy = json.loads(json.dumps(record))
    copy["id"] = rid
    copy["messages"][0]["content"] = paraphrase_prompt(copy["messages"][0]["content"])
    words = copy["messages"][1]["content"].split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    copy["messages"][1]["content"] = " ".join(words)
    return copy


def plant_paraphrases(
    records: list[dict], evals: list[str], rate: float, seed: int = 1
) -> dict[str, list]:
    """Append paraphrases of ``rate`` of the records and of every eval request; returns their ids."""
    rng = random.Random(seed)
    planted: dict[str, list] = {"paraphrase": [], "eval_paraphrase": []}
    sources = [r for r in records if r["meta"]["set"] != "refusal"]
    for k, source in enumerate(rng.sample(sources, int(len(records) * rate))):
        copy = paraphrase_record(source, rng, f"p{k:06d}")
        records.append(copy)
        planted["paraphrase"].append([source["id"], copy["id"]])
    for k, text in enumerate(evals):
        rid = f"q{k:06d}"
        records.append(
            {
                "id": rid,
                "messages": [
                    {"role": "user", "content": paraphrase_prompt(text)},
                    {"role": "assistant", "content": "Here is how you could go about it."},
                ],
                "meta": {"set": "gramenism"},
            }
        )
        planted["eval_paraphrase"].append(rid)
    return planted
