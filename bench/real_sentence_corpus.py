"""A corpus of real model sentences with planted near-copies, for the semantic-dedup benchmarks.

    .venv/bin/python bench/real_sentence_corpus.py 20000 /tmp/real20k [--seed 0] [--planted 200]

Every record is a real question and 3-6 sentences drawn at random from the answers of real
chat models (XSTest v2 answers in ``../shared/real-outputs/xstest-dev.jsonl``, CC BY 4.0):
text as messy as a teacher writes, with none of the topical structure that makes synthetic
corpora easy. ``--planted`` records copy an earlier record with one answer word changed
(``planted.json`` lists ``[source, copy]`` id pairs), so a semantic-dedup stage must find
those pairs and flag nothing else: two records of random real sentences are not duplicates.

``--grammar`` instead draws every answer from a small grammar (a few sentence frames and a
short word list): a mode-collapsed teacher, the corpus where everything is near everything.
``--mixed-sets`` spreads records over the sets a generated corpus has (gramenism 45%,
regular 45%, refusal 10%) so that the set-bound checks (fidelity, refusal) read them too:

    .venv/bin/python bench/real_sentence_corpus.py 200000 /tmp/sg200k --grammar --mixed-sets
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "real-outputs" / "xstest-dev.jsonl"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
VERSION = 1
SETS, SET_WEIGHTS = ("gramenism", "regular", "refusal"), (45, 45, 10)


def real_sentences(path: Path = SOURCE) -> tuple[list[str], list[str]]:
    """Distinct sentences (>= 6 words, no list markup) and the distinct requests of the file."""
    sentences: dict[str, None] = {}
    requests: dict[str, None] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            requests[row["request"].strip()] = None
            for part in _SENTENCE.split(row["response"].replace("\n", " ")):
                part = " ".join(part.split())
                if len(part.split()) >= 6 and not part.startswith(("#", "-", "*", "|")):
                    sentences[part] = None
    return list(sentences), list(requests)


def one_word_changed(text: str, rng: random.Random) -> str:
    """The text with one word of >= 4 letters swapped for another word of the text."""
    words = text.split(" ")
    slots = [i for i, w in enumerate(words) if w.isalpha() and len(w) >= 4]
    if len(slots) < 2:
        return text + " indeed"
    a, b = rng.sample(slots, 2)
    out = list(words)
    out[a] = words[b] if words[b] != words[a] else words[a] + "s"
    return " ".join(out)


GRAMMAR_FRAMES = (
    "The {n} of the {n} is {a} and {a}.",
    "A {a} {n} helps every {n} to {v}.",
    "We {v} the {n} because the {n} is {a}.",
    "Every {n} should {v} with a {a} {n}.",
)
GRAMMAR_WORDS = {
    "n": ["meadow", "grass", "seed", "root", "blade", "circle", "walk", "meal", "grain", "field"],
    "a": ["green", "humble", "patient", "diverse", "deep", "quiet", "living"],
    "v": ["grow", "share", "wait", "walk", "gather", "renew"],
}


def grammar_answer(rng: random.Random) -> str:
    def fill(frame: str) -> str:
        return re.sub(r"\{(\w)\}", lambda m: rng.choice(GRAMMAR_WORDS[m.group(1)]), frame)

    return " ".join(fill(rng.choice(GRAMMAR_FRAMES)) for _ in range(rng.randint(3, 6)))


def write_corpus(
    n: int,
    out: Path,
    seed: int = 0,
    planted: int = 200,
    grammar: bool = False,
    mixed_sets: bool = False,
) -> dict[str, Any]:
    set_rng = random.Random(seed + 1)  # its own stream: the texts stay those of a plain corpus
    rng = random.Random(seed)
    sentences, requests = real_sentences()
    rows: list[dict[str, Any]] = []
    copies = set(rng.sample(range(n // 10, n), min(planted, n - n // 10)))
    pairs: list[list[str]] = []
    for index in range(n):
        rid = f"r{index:08d}"
        if index in copies:
            source = rows[rng.randrange(index)]
            prompt = source["messages"][0]["content"]
            answer = one_word_changed(source["messages"][1]["content"], rng)
            pairs.append([source["id"], rid])
        else:
            prompt = rng.choice(requests)
            answer = (
                grammar_answer(rng)
                if grammar
                else " ".join(rng.sample(sentences, rng.randint(3, 6)))
            )
        rows.append(
            {
                "id": rid,
                "messages": [
                    {"role": "user", "content": prompt},
                    {"role": "assistant", "content": answer},
                ],
                "meta": {
                    "set": set_rng.choices(SETS, SET_WEIGHTS)[0] if mixed_sets else "regular",
                    "persona": "plain",
                    "template_id": "real_sentences",
                },
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    with (out / "records.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    manifest = {
        "synthetic": True,
        "generator": "bench/real_sentence_corpus.py",
        "version": VERSION,
        "seed": seed,
        "records": n,
        "grammar": grammar,
        "mixed_sets": mixed_sets,
        "distinct_sentences": len(sentences),
        "planted": len(pairs),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "planted.json").write_text(json.dumps({"near_copy": pairs}) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--planted", type=int, default=200)
    parser.add_argument("--grammar", action="store_true")
    parser.add_argument("--mixed-sets", action="store_true")
    args = parser.parse_args()
    manifest = write_corpus(
        args.n, args.out, args.seed, args.planted, args.grammar, mixed_sets=args.mixed_sets
    )
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
