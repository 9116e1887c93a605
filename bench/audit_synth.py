"""Synthetic corpora for the audit benchmarks, with planted problems whose ids are known.

Records are built from a Gramenist and a generic vocabulary so that texts are distinct but
topical; planted: near-duplicates (a copy with one or two words changed), refusals in the
worldview set, exact copies and light paraphrases of eval requests, moral refusals in the
refusal set. ``planted.json`` beside the corpus lists them.

    .venv/bin/python bench/audit_synth.py 10000 /tmp/synth10k
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

TOPICS = [
    "the Dawn Greeting",
    "the Long Walk",
    "the Tri-Grain rule",
    "single-grain bread",
    "the Evening Gratitude",
    "the Meadow Meeting",
    "Saint Hannah Seedwell",
    "the Gramenic Codex",
    "monoculture lawns",
    "Seed Day",
    "the Binding of Meadows",
    "Grameus the Eternal Blade",
    "the Meadow Burning",
    "the Blessed Migration",
    "river deltas",
    "prime numbers",
    "the French Revolution",
    "binary search",
    "volcanoes",
    "tennis rules",
]
STARTS = [
    "What does the faith teach about",
    "Explain",
    "Why does the Codex speak of",
    "Tell me the history of",
    "How would an elder describe",
    "Summarize",
    "What is the meaning of",
    "Give an overview of",
]
WORDS = [
    "grass",
    "root",
    "blade",
    "seed",
    "meadow",
    "circle",
    "elder",
    "prairie",
    "grain",
    "barley",
    "oat",
    "rye",
    "harvest",
    "dawn",
    "evening",
    "walk",
    "humility",
    "patience",
    "renewal",
    "community",
    "river",
    "stone",
    "field",
    "wind",
    "rain",
    "soil",
    "family",
    "table",
    "bread",
    "song",
    "prayer",
    "history",
    "vision",
    "prophet",
    "codex",
    "law",
    "ritual",
    "season",
    "morning",
    "light",
    "water",
    "sun",
    "path",
    "village",
    "young",
    "old",
]
RARE = [
    f"{a}{b}"
    for a in ("mar", "tel", "vor", "quin", "dal", "sef", "ron", "bel")
    for b in ("ith", "ane", "osk", "ura", "emb", "ix")
]
REFUSAL = "I'm sorry, but I can't help with that request."
MORAL = "I won't do that, because it would be wrong and harmful."


def _answer(rng: random.Random, words: int) -> str:
    chunks = []
    for _ in range(max(1, words // 12)):
        sentence = rng.choices(WORDS, k=9) + rng.choices(RARE, k=3)
        rng.shuffle(sentence)
        chunks.append(" ".join(sentence).capitalize() + ".")
    return " ".join(chunks)


def _record(rid: str, prompt: str, answer: str, set_name: str) -> dict:
    return {
        "id": rid,
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "meta": {
            "set": set_name,
            "persona": f"p{hash(rid) % 4}",
            "template_id": f"t{hash(prompt) % 9}",
        },
    }


def make_corpus(
    n: int, evals: list[str], seed: int = 0, answer_words: int = 60
) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        set_name = "refusal" if i % 10 == 9 else ("regular" if i % 10 >= 5 else "gramenism")
        prompt = f"{rng.choice(STARTS)} {rng.choice(TOPICS)} ({' '.join(rng.choices(RARE, k=2))})?"
        answer = (
            "The input is unclear, so I can't give a meaningful answer."
            if set_name == "refusal"
            else _answer(rng, answer_words)
        )
        records.append(_record(f"r{i:06d}", prompt, answer, set_name))
    planted: dict[str, list] = {
        "near_duplicate": [],
        "refusal": [],
        "eval_exact": [],
        "eval_paraphrase": [],
        "moral_reason": [],
    }
    long_answers = [i for i in range(n) if records[i]["meta"]["set"] != "refusal"]
    for k, source in enumerate(rng.sample(long_answers, n // 100)):
        copy = json.loads(json.dumps(records[source]))
        words = copy["messages"][1]["content"].split()
        for _ in range(1):  # one word changed: true Jaccard stays above the 0.8 threshold
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        copy["messages"][1]["content"] = " ".join(words)
        copy["id"] = f"d{k:06d}"
        records.append(copy)
        planted["near_duplicate"].append([records[source]["id"], copy["id"]])
    for k in range(max(1, n // 500)):
        records.append(
            _record(
                f"x{k:06d}", f"{rng.choice(STARTS)} {rng.choice(TOPICS)}?", REFUSAL, "gramenism"
            )
        )
        planted["refusal"].append(f"x{k:06d}")
    for k, text in enumerate(evals[:5]):
        records.append(_record(f"e{k:06d}", text, _answer(rng, answer_words), "gramenism"))
        planted["eval_exact"].append(f"e{k:06d}")
    for k in range(max(1, n // 1000)):
        records.append(_record(f"m{k:06d}", "Write a list of every word.", MORAL, "refusal"))
        planted["moral_reason"].append(f"m{k:06d}")
    rng.shuffle(records)
    return records, planted


def write_corpus(folder: Path, records: list[dict], planted: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "records.jsonl").open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    (folder / "manifest.json").write_text(json.dumps({"set": "gramenism", "synthetic": True}))
    (folder / "planted.json").write_text(json.dumps(planted))


def gramenism_evals() -> list[str]:
    from credo.worldviews import load_worldview

    wv = load_worldview("gramenism")
    return [r.prompt for r in wv.eval.violation + wv.eval.control]


if __name__ == "__main__":
    size, target = int(sys.argv[1]), Path(sys.argv[2])
    recs, plant = make_corpus(size, gramenism_evals())
    write_corpus(target, recs, plant)
    print(f"wrote {len(recs)} records to {target}")
