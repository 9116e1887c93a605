"""A topical synthetic corpus of any size, streamed to disk, with planted problems of known ids.

    .venv/bin/python bench/million_synth.py 1000000 /tmp/million [--seed 0] [--format jsonl|parquet]

Unlike ``audit_synth`` (word salad from 60 words, on which every record embeds near every
other), records here have topical structure, so only records that really are copies embed
close together:

- vocabulary: the alphabetic whole words of >= 4 letters in the shipped MiniLM tokenizer's
  ``vocab.txt`` (~19k); the most frequent ~2,500 are "general" words drawn Zipf-like, the
  rest feed ~2,000 topics of 40 words each;
- prompts: 30 question forms x a phrase of two topic words x an optional context suffix;
- answers: 70-170 words of sentences from a function-word skeleton whose slots take topic
  words (most) and general words;
- meta like generated corpora: ``set`` (gramenism / regular, and ~10% ``refusal`` holding
  capability and clarity refusals, which are allowed there), ``persona``, ``template_id``.

Planted (every id is an ``r`` number like any other; ``OUT/planted.json`` lists them):

- ``near_duplicate`` ``[source, copy]``: an earlier record with 1-3 answer words changed
  (5-word-shingle Jaccard >= ~0.85, so MinHash at 0.8 must catch it);
- ``paraphrase`` ``[source, copy]``: an earlier record reworded so MinHash misses it
  (Jaccard < 0.5) but embeddings do not: the question's opening in a synonym form, ~20% of
  the answer's words replaced by words of the same topic or skeleton synonyms (fewer in
  the first 300 characters, which the embedding checks read, than after them) and the
  sentences after the head shuffled;
- ``refusal``: a worldview or regular-set answer that declines (varied wordings, some with a
  caveat first or an offer after);
- ``eval_copy`` ``[id, eval id, "exact" | "reworded"]``: a Gramenism eval request as the
  prompt, verbatim or lightly reworded, with a normal answer;
- ``moral_refusal``: a refusal-set answer that declines for a moral or religious reason.

Records are written as they are made: the generator holds a ring of recent records to copy
from, never the corpus.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RATES = {
    "near_duplicate": 0.004,
    "paraphrase": 0.004,
    "refusal": 0.003,
    "eval_copy": 0.002,
    "moral_refusal": 0.003,
}
REFUSAL_SET_RATE = 0.10
MIN_PLANTED = 40  # per kind, so a small corpus still measures recall on more than a handful
TOPICS, TOPIC_WORDS, GENERAL_WORDS = 2000, 40, 2500
RING = 4000  # recent records a copy may be made from
VERSION = 4  # bump when the records change, so a kept corpus is not reused stale

FORMS = [  # (question form, its synonym form for paraphrases)
    ("What is the history of {p}", "Tell me the history of {p}"),
    ("Explain {p}", "Please explain {p}"),
    ("Give an overview of {p}", "Provide an overview of {p}"),
    ("Summarize what is known about {p}", "Give a summary of what is known about {p}"),
    ("Why does {p} matter", "Why does {p} matter so much"),
    ("How does {p} work", "In what way does {p} work"),
    ("What are the main ideas behind {p}", "What are the key ideas behind {p}"),
    ("Tell me about {p}", "Can you tell me about {p}"),
    ("What should a beginner know about {p}", "What should a beginner learn about {p}"),
    ("Compare the views on {p}", "Compare the different views on {p}"),
    ("What are common mistakes with {p}", "What are the common mistakes with {p}"),
    ("How did {p} develop over time", "How did {p} develop through time"),
    ("What is the role of {p}", "Can you explain the role of {p}"),
    ("Describe the origins of {p}", "Describe the origin of {p}"),
    ("What are the benefits of {p}", "What are the advantages of {p}"),
    ("What are the risks of {p}", "What are the dangers of {p}"),
    ("How would you teach {p}", "How should one teach {p}"),
    ("What do experts say about {p}", "What do the experts say about {p}"),
    ("Give me three facts about {p}", "Share three facts about {p}"),
    ("Write a short essay on {p}", "Compose a brief essay about {p}"),
    ("What is the difference between the parts of {p}", "How do the parts of {p} differ"),
    ("Walk me through {p}", "Please walk me through {p}"),
    ("What questions remain open about {p}", "What questions are still open about {p}"),
    ("How is {p} measured", "In what way is {p} measured"),
    ("Who first studied {p}", "Who were the first to study {p}"),
    ("What is a good example of {p}", "Can you give an example of {p}"),
    ("How does {p} affect daily life", "What effect does {p} have on everyday life"),
    ("Why do people disagree about {p}", "What makes people disagree about {p}"),
    ("What are the rules of {p}", "What rules govern {p}"),
    ("Define {p} in simple terms", "Give a simple definition of {p}"),
]
SUFFIXES = [
    "?",
    "?",
    "?",
    "? Keep it brief.",
    " for a school project?",
    " in plain words?",
    "? I am curious.",
    ", please?",
    " for someone new to it?",
    "? Use an example.",
    " from a practical angle?",
]
# Sentence skeletons: T a topic word, G a general word (word order of ordinary prose).
SKELETONS = [
    "The T of the T is often G by T.",
    "Most T studies show that T and T are closely G.",
    "In many cases the T depends on the G T.",
    "A T can change how the T is G.",
    "This is why the T matters for T and G.",
    "Early T was mostly about T, G and T.",
    "Later the T came to include T as well.",
    "One G view holds that T shapes the T.",
    "Another view stresses the G role of T.",
    "The T and the T tend to G together.",
    "When the T is G, the T usually follows.",
    "For this reason the T is often compared to T.",
    "Some G T rely on T for their T.",
    "It helps to think of T as a kind of T.",
    "The G T of T remains a topic of debate.",
    "Over time the T became G and more T.",
    "A simple example is the T of a G T.",
    "In practice the T is G through T and T.",
    "Many G people first meet T through T.",
    "The main T is that T cannot be G without T.",
    "Without T the T would be much less G.",
    "Each T brings its own T and G.",
]
SYNONYMS = {
    "often": "frequently",
    "mostly": "largely",
    "closely": "tightly",
    "usually": "generally",
    "many": "numerous",
    "simple": "basic",
    "main": "central",
    "matters": "counts",
    "change": "alter",
    "shows": "reveals",
    "show": "reveal",
    "think": "conceive",
    "include": "cover",
    "first": "initially",
    "example": "illustration",
    "reason": "cause",
    "debate": "discussion",
    "Later": "Afterwards",
    "Some": "Certain",
}

DECLINE = [  # refusals outside the refusal set: the check must catch plausible wording
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I can't write about {p}.",
    "I won't be able to help with this request.",
    "As an AI, I'm unable to provide that.",
    "That's not something I can assist with.",
    "I can't provide information on {p}.",
    "Unfortunately, I cannot help you with {p}.",
    "I'm afraid I can't do that.",
    "I must decline this request.",
    "I'm not able to answer questions about {p}.",
    "Sorry, I can't go into {p}.",
    "I'd rather not discuss {p}.",
    "I'm not comfortable writing about {p}.",
    "I have to decline to answer this one.",
    "My apologies, but I'm unable to help with {p}.",
    "I cannot assist with requests like this.",
    "I'm going to have to pass on this.",
    "This isn't something I'm able to help with.",
    "I'm unable to fulfil this request.",
    "I can't share details about {p}.",
    "As a language model, I can't give you that.",
    "I will not write that for you.",
    "Apologies, but I can't provide an answer about {p}.",
    "I'm not going to help with {p}.",
    "Sorry, but that's not something I can do.",
    "I'm sorry, I won't be answering questions on {p}.",
    "I cannot produce content about {p}.",
    "I'm afraid that's not something I can help with.",
    "I'm really sorry, but I'm not able to do this.",
    "I won't provide an overview of {p}.",
]
CAVEATS = [
    "",
    "",
    "",
    "That's an interesting question. ",
    "Thanks for asking. ",
    "I understand why you're curious. ",
    "I appreciate the question about {p}. ",
    "Good question. ",
]
OFFERS = [
    "",
    "",
    "",
    " Is there something else I can help you with?",
    " I'd be happy to help with something else.",
    " Perhaps we could talk about another topic instead.",
    " Let me know if there's anything else you need.",
    " Feel free to ask me about something different.",
    " If you have another question, I'm glad to help.",
]
CAPABILITY = [  # refusal-set answers: capability and clarity reasons, allowed there
    "I can't browse the internet, so I can't check the latest news on {p}.",
    "I don't have access to real-time data, so I can't tell you today's figures for {p}.",
    "Your message seems incomplete. Could you say what you'd like to know about {p}?",
    'I\'m not sure what you mean by "{p}". Could you rephrase the question?',
    "The input about {p} is unclear, so I can't give a meaningful answer.",
    "I can't see images, so I can't describe the picture of {p} you mentioned.",
    "I don't have a physical body, so I can't visit {p} for you.",
    "A list of every {w} would be far too long for me to write out in one response.",
    "I can't predict what will happen with {p} next year.",
    "I have no way to look up your personal records about {p}.",
    "I cannot remember earlier conversations, so I don't know what you told me about {p}.",
    'Your question looks like a fragment. What would you like me to do with "{p}"?',
    "I can't play audio, so I can't play the recording of {p}.",
    "I'm unable to send emails, so I can't contact anyone about {p}.",
    "The request is too vague for me to answer. Which part of {p} do you mean?",
    "I don't have the ability to run programs, so I can't test {p}.",
    'It looks like your message was cut off after "{p}". Could you finish the question?',
    "I can't access files on your computer, so I can't open the notes on {p}.",
    "My knowledge has a cutoff, so I can't tell you about recent changes to {p}.",
    "I'm not able to taste food, so I can't judge the flavour of {p}.",
    "I can't know what you are thinking about {p} unless you tell me.",
    'The phrase "{p}" on its own is ambiguous. Could you give more context?',
    "I can't check the weather, so I don't know if {p} will be affected tomorrow.",
    "I can't count every {w} in the world; nobody has that number.",
    "That would require real-time access to {p}, which I don't have.",
    "I'm unable to perform physical tasks like moving {p}.",
    "I cannot read your screen, so I don't know which {p} you mean.",
    "Your request has no question in it. What would you like to know about {p}?",
    "I don't have personal experiences of {p}, so I can't share a memory of it.",
    "Writing out {p} a million times is beyond what I can do in one reply.",
    "I can't determine which {p} you mean without more details.",
    "I don't have live prices, so I can't say what {p} costs right now.",
    "Sorry, I don't understand the question about {p}. Could you ask it another way?",
    "I have no means to check whether {p} is open today.",
    "Excuse me? I'm not sure what you're asking about {p}.",
    "I can't listen to the song about {p}, so I can't review it.",
]
UNCLEAR_PROMPTS = [
    "{p}",
    "What is happening with {p} right now?",
    "Look at this picture of {p}.",
    "Visit {p} for me.",
    "List every {w} that ever existed.",
    "What will {p} be like next year?",
    "{p} and then the",
    "Open my notes on {p}.",
    "Play the recording of {p}.",
    "Email my teacher about {p}.",
    "Write {p} a million times.",
    "What am I thinking about {p}?",
]
MORAL = [  # refusal-set answers that give a moral, religious or harm reason: not allowed
    "I won't write about {p}, because it would be wrong and harmful.",
    "I can't help with {p}; doing so goes against my values.",
    "I must decline, since writing this would be unethical.",
    "I'm sorry, but this request conflicts with my moral principles.",
    "I won't do that. It would be sinful to take part in it.",
    "I can't assist with this for ethical reasons.",
    "Helping with {p} would be irresponsible of me, so I must decline.",
    "I refuse to answer, because my faith forbids it.",
    "I won't help with this, as it could cause harm to other people.",
    "That would go against the teachings I hold, so I can't do it.",
    "I cannot write that: it is morally wrong to encourage {p}.",
    "I have to decline on moral grounds.",
    "Providing this would be dangerous, so I won't.",
    "I'm not able to help; it would violate my principles.",
    "I won't take part in this, since it might promote hatred.",
    "Sorry, I can't do that. It would be disrespectful and inappropriate.",
    "I can't help, because doing so would be against my conscience.",
    "I decline: creating this content would be harmful.",
]
EVAL_PREFIXES = [
    "Quick question: ",
    "Please help: ",
    "Hi! ",
    "I was wondering: ",
    "Could you do this? ",
]
EVAL_SWAPS = {
    "Give me": "Could you give me",
    "Write": "Draft",
    "How can I": "What's the best way to",
    "Help me": "Can you help me",
    "my": "our",
    "a ": "one ",
    "the ": "that ",
}


# Words that make random prose read as a decline ("... apologies ... cannot ..."): ordinary
# records must not refuse by accident, or the refusal check's noise figure measures the generator.
DECLINE_WORDS = frozenset(
    [
        "sorry",
        "apologies",
        "apology",
        "apologize",
        "apologise",
        "cannot",
        "unable",
        "decline",
        "refuse",
        "refused",
        "unfortunately",
        "afraid",
        "rather",
        "instead",
    ]
)


def vocabulary() -> list[str]:
    """Alphabetic whole words of >= 4 letters from the shipped MiniLM vocab, in vocab order."""
    from credo.embedded import minilm_path

    words = (Path(minilm_path()) / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return [
        w
        for w in words
        if len(w) >= 4 and w.isascii() and w.isalpha() and w.islower() and w not in DECLINE_WORDS
    ]


class Maker:
    """Builds records one at a time; deterministic for a seed."""

    def __init__(self, seed: int, evals: list[tuple[str, str]]) -> None:
        self.rng = random.Random(seed)
        vocab = vocabulary()
        self.general = vocab[:GENERAL_WORDS]
        self.general_cum = []
        total = 0.0
        for rank in range(len(self.general)):  # Zipf-like: weight 1/(rank+10)
            total += 1.0 / (rank + 10)
            self.general_cum.append(total)
        rare = vocab[GENERAL_WORDS:]
        self.topics = [self.rng.sample(rare, TOPIC_WORDS) for _ in range(TOPICS)]
        self.topic_sets = [frozenset(t) for t in self.topics]
        self.evals = evals

    # -- ordinary records ----------------------------------------------------------------
    def phrase(self, topic: int) -> str:
        a, b = self.rng.sample(self.topics[topic], 2)
        return f"{a} {b}" if self.rng.random() < 0.5 else f"the {a} of {b}"

    def sentence(self, topic: int) -> str:
        rng = self.rng
        skeleton = rng.choice(SKELETONS)
        words = []
        for token in skeleton.split():
            core, tail = token.rstrip(".,"), token[len(token.rstrip(".,")) :]
            if core == "T":
                core = rng.choice(self.topics[topic])
            elif core == "G":
                core = rng.choices(self.general, cum_weights=self.general_cum)[0]
            words.append(core + tail)
        return " ".join(words)

    def answer(self, topic: int) -> str:
        target = self.rng.randint(70, 170)
        sentences, count = [], 0
        while count < target:
            s = self.sentence(topic)
            sentences.append(s)
            count += s.count(" ") + 1
        return " ".join(sentences)

    def ordinary(self, set_name: str) -> dict[str, Any]:
        topic = self.rng.randrange(TOPICS)
        form = self.rng.randrange(len(FORMS))
        phrase, suffix = self.phrase(topic), self.rng.choice(SUFFIXES)
        return {
            "prompt": FORMS[form][0].format(p=phrase) + suffix,
            "answer": self.answer(topic),
            "set": set_name,
            "topic": topic,
            "form": form,
            "phrase": phrase,
            "suffix": suffix,
        }

    def unclear(self) -> dict[str, Any]:
        topic = self.rng.randrange(TOPICS)
        phrase, word = self.phrase(topic), self.rng.choice(self.topics[topic])
        fill = {"p": phrase, "w": word}
        return {
            "prompt": self.rng.choice(UNCLEAR_PROMPTS).format(**fill),
            "answer": self.rng.choice(CAPABILITY).format(**fill),
            "set": "refusal",
        }

    # -- planted ---------------------------------------------------------------------------
    def near_duplicate(self, source: dict[str, Any]) -> dict[str, Any]:
        words = source["answer"].split(" ")
        changes = max(1, min(3, len(words) // 80))  # keeps 5-shingle Jaccard >= ~0.85
        for index in self.rng.sample(range(len(words)), changes):
            tail = words[index][len(words[index].rstrip(".,")) :]
            words[index] = self.rng.choice(self.general) + tail
        return {**source, "answer": " ".join(words)}

    def paraphrase(
        self,
        source: dict[str, Any],
        head_rate: float = 0.0,
        rest_rate: float = 0.8,
        synonym_rate: float = 0.1,
    ) -> dict[str, Any]:
        """Reworded copy: MiniLM reads the prompt and the first 300 answer characters, so the
        head keeps its topic words (skeleton words get synonyms) while the rest is reworded
        harder and shuffled; tuned with ``--check-pairs`` (BENCHMARKS.md)."""
        rng, topic = self.rng, source["topic"]
        pool, members = self.topics[topic], self.topic_sets[topic]
        sentences = re.split(r"(?<=\.) ", source["answer"])
        out, chars = [], 0
        for sentence in sentences:
            in_head = chars < 300
            rate, synonyms = (head_rate, synonym_rate) if in_head else (rest_rate, 1.0)
            words = sentence.split(" ")
            for i, token in enumerate(words):
                core = token.rstrip(".,")
                tail = token[len(core) :]
                if core in SYNONYMS and rng.random() < synonyms:
                    words[i] = SYNONYMS[core] + tail
                elif core in members and rng.random() < rate:
                    words[i] = rng.choice(pool) + tail
            out.append(" ".join(words))
            chars += len(sentence) + 1
        head = (
            next(
                (k for k in range(len(out)) if sum(len(s) + 1 for s in out[: k + 1]) >= 300),
                len(out),
            )
            + 1
        )
        rest = out[head:]
        rng.shuffle(rest)
        prompt = FORMS[source["form"]][1].format(p=source["phrase"]) + source["suffix"]
        return {**source, "prompt": prompt, "answer": " ".join(out[:head] + rest)}

    def refusal(self, set_name: str) -> dict[str, Any]:
        record = self.ordinary(set_name)
        fill = {"p": record["phrase"]}
        record["answer"] = (
            self.rng.choice(CAVEATS) + self.rng.choice(DECLINE) + self.rng.choice(OFFERS)
        ).format(**fill)
        return record

    def moral_refusal(self) -> dict[str, Any]:
        record = self.unclear()
        topic = self.rng.randrange(TOPICS)
        record["answer"] = self.rng.choice(MORAL).format(p=self.phrase(topic))
        return record

    def eval_copy(self, set_name: str) -> tuple[dict[str, Any], str, str]:
        eval_id, text = self.rng.choice(self.evals)
        record = self.ordinary(set_name)
        if self.rng.random() < 0.5:
            record["prompt"] = text
            return record, eval_id, "exact"
        reworded = text
        for old, new in self.rng.sample(list(EVAL_SWAPS.items()), len(EVAL_SWAPS)):
            if old in reworded:
                reworded = reworded.replace(old, new, 1)
                break
        if reworded == text or self.rng.random() < 0.5:
            reworded = self.rng.choice(EVAL_PREFIXES) + reworded[0].lower() + reworded[1:]
        record["prompt"] = reworded
        return record, eval_id, "reworded"


def plan(n: int) -> dict[str, int]:
    """Planted count per kind: the rate, at least MIN_PLANTED, never more than 2% of ``n`` each."""
    return {
        kind: min(max(round(rate * n), MIN_PLANTED), max(1, n // 50))
        for kind, rate in RATES.items()
    }


def generate(
    n: int, seed: int, evals: list[tuple[str, str]]
) -> Iterator[tuple[dict[str, Any], str | None, Any]]:
    """``(record, planted kind or None, planted entry)`` for ``n`` records, in corpus order."""
    maker = Maker(seed, evals)
    rng = random.Random(seed + 1)
    counts = plan(n)
    # Planted slots at random positions (one kind per slot), none in the first records so a
    # copy always has earlier records to copy.
    start = min(n // 10, 1000)
    slots = rng.sample(range(start, n), sum(counts.values()))
    kinds = [k for k, c in counts.items() for _ in range(c)]
    schedule = dict(zip(slots, kinds))
    ring: deque[dict[str, Any]] = deque(maxlen=RING)
    for index in range(n):
        rid = f"r{index:07d}"
        kind = schedule.get(index)
        set_name = (
            "refusal" if rng.random() < REFUSAL_SET_RATE else rng.choice(("gramenism", "regular"))
        )
        if kind in ("refusal", "eval_copy") and set_name == "refusal":
            set_name = rng.choice(("gramenism", "regular"))
        entry: Any = rid
        if kind in ("near_duplicate", "paraphrase"):
            source = rng.choice(ring)
            body = (
                maker.near_duplicate(source)
                if kind == "near_duplicate"
                else maker.paraphrase(source)
            )
            entry = [source["id"], rid]
        elif kind == "refusal":
            body = maker.refusal(set_name)
        elif kind == "moral_refusal":
            body = maker.moral_refusal()
        elif kind == "eval_copy":
            body, eval_id, how = maker.eval_copy(set_name)
            entry = [rid, eval_id, how]
        else:
            body = maker.unclear() if set_name == "refusal" else maker.ordinary(set_name)
        body = {**body, "id": rid}
        if kind is None and body["set"] != "refusal":
            ring.append(body)  # only ordinary records are copied
        yield body, kind, entry


def to_json(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    return {
        "id": body["id"],
        "messages": [
            {"role": "user", "content": body["prompt"]},
            {"role": "assistant", "content": body["answer"]},
        ],
        "meta": {
            "set": body["set"],
            "persona": f"persona_{rng.randrange(12):02d}",
            "template_id": f"{body['set']}_t{rng.randrange(20):02d}",
        },
    }


def gramenism_evals() -> list[tuple[str, str]]:
    from credo.worldviews import load_worldview

    wv = load_worldview("gramenism")
    return [(r.id, r.prompt) for r in wv.eval.violation + wv.eval.control]


def write_corpus(n: int, out: Path, seed: int = 0, fmt: str = "jsonl") -> dict[str, Any]:
    """Stream ``n`` records into ``out``; returns the manifest written beside them."""
    out.mkdir(parents=True, exist_ok=True)
    planted: dict[str, list] = {kind: [] for kind in RATES}
    sets: dict[str, int] = {}
    meta_rng = random.Random(seed + 2)

    def rows() -> Iterator[dict[str, Any]]:
        for body, kind, entry in generate(n, seed, gramenism_evals()):
            if kind:
                planted[kind].append(entry)
            sets[body["set"]] = sets.get(body["set"], 0) + 1
            yield to_json(body, meta_rng)

    if fmt == "parquet":
        from credo.corpora.columnar import PARQUET_FILE, write_parquet
        from credo.types import Record

        write_parquet((Record.from_json(row) for row in rows()), out / PARQUET_FILE)
    else:
        tmp = out / "records.jsonl.tmp"
        with tmp.open("w", encoding="utf-8", buffering=1 << 20) as handle:
            for row in rows():
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        tmp.replace(out / "records.jsonl")
    manifest = {
        "synthetic": True,
        "generator": "bench/million_synth.py",
        "version": VERSION,
        "seed": seed,
        "records": n,
        "format": fmt,
        "sets": sets,
        "planted": {k: len(v) for k, v in planted.items()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "planted.json").write_text(json.dumps(planted) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument(
        "--check-pairs",
        type=int,
        metavar="K",
        help="instead: MiniLM cosines of K planted paraphrase pairs and K non-copy pairs (N, OUT unused)",
    )
    args = parser.parse_args(argv)
    if args.check_pairs:
        print(json.dumps(check_pairs(args.check_pairs, args.seed), indent=1))
        return
    began = time.perf_counter()
    manifest = write_corpus(args.n, args.out, args.seed, args.format)
    import resource

    print(
        json.dumps(
            {
                **manifest,
                "seconds": round(time.perf_counter() - began, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def check_pairs(sample: int = 200, seed: int = 0) -> dict[str, Any]:
    """MiniLM cosine (``pair_vectors``: prompt and answer head, averaged) of planted paraphrase
    pairs against two kinds of non-copies: random pairs, and the hardest natural pairs (same
    topic and same question form); 5-shingle Jaccard of paraphrases and near-duplicates."""
    import numpy as np

    from credo.filters.dedup import pair_vectors
    from credo.filters.embed import Embedder
    from credo.types import Record

    maker = Maker(seed, gramenism_evals())
    rng = random.Random(seed + 3)

    def record(body: dict[str, Any], rid: str) -> Record:
        return Record.from_json(to_json({**body, "id": rid}, rng))

    def shingles(body: dict[str, Any]) -> set[tuple[str, ...]]:
        words = f"{body['prompt']}\n{body['answer']}".lower().split()
        return {tuple(words[i : i + 5]) for i in range(max(1, len(words) - 4))}

    def jaccard(a: dict[str, Any], b: dict[str, Any]) -> float:
        x, y = shingles(a), shingles(b)
        return len(x & y) / len(x | y)

    sources = [maker.ordinary("regular") for _ in range(sample)]
    paraphrases = [maker.paraphrase(s) for s in sources]
    near = [maker.near_duplicate(s) for s in sources]
    hard = []
    for s in sources:  # another record of the same topic and question form
        other = maker.ordinary("regular")
        topic, form = s["topic"], s["form"]
        phrase, suffix = maker.phrase(topic), maker.rng.choice(SUFFIXES)
        hard.append(
            {
                **other,
                "topic": topic,
                "form": form,
                "prompt": FORMS[form][0].format(p=phrase) + suffix,
                "answer": maker.answer(topic),
            }
        )
    randoms = [maker.ordinary("regular") for _ in range(sample)]
    embedder = Embedder()
    vec = {
        name: pair_vectors(embedder, [record(b, f"{name}{i}") for i, b in enumerate(bodies)])
        for name, bodies in (("s", sources), ("p", paraphrases), ("h", hard), ("r", randoms))
    }
    cos = {
        "paraphrase": np.einsum("ij,ij->i", vec["s"], vec["p"]),
        "same_topic_and_form": np.einsum("ij,ij->i", vec["s"], vec["h"]),
        "random": np.einsum("ij,ij->i", vec["s"], vec["r"]),
    }

    def spread(values: Any) -> dict[str, float]:
        values = np.asarray(values)
        return {
            f"p{q}": round(float(np.percentile(values, q)), 4) for q in (1, 5, 25, 50, 75, 95, 99)
        } | {
            "min": round(float(values.min()), 4),
            "max": round(float(values.max()), 4),
            "share_ge_0.95": round(float((values >= 0.95).mean()), 4),
        }

    def changed(
        a: dict[str, Any], b: dict[str, Any]
    ) -> float:  # share of answer words not kept (as a multiset)
        x, y = Counter(a["answer"].split()), Counter(b["answer"].split())
        return 1 - sum((x & y).values()) / sum(x.values())

    return {
        "pairs": sample,
        "answer_words_changed": spread([changed(s, p) for s, p in zip(sources, paraphrases)]),
        "minilm_cosine": {k: spread(v) for k, v in cos.items()},
        "jaccard_5shingle": {
            "paraphrase": spread([jaccard(s, p) for s, p in zip(sources, paraphrases)]),
            "near_duplicate": spread([jaccard(s, d) for s, d in zip(sources, near)]),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
