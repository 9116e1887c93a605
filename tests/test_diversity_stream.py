"""The streaming diversity check: batched == one batch == the whole-corpus definition, the
HyperLogLog switch past the cap, the heavy-hitters summary, and partials that stay small."""

from __future__ import annotations

import json
import pickle
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from credo.errors import ConfigError
from credo.filters.base import AuditContext, InMemory
from credo.filters.diversity import (
    Distinct,
    DiversityCheck,
    HeavyHitters,
    SetPart,
    Texts,
    hll_estimate,
    hll_registers,
    set_diversity,
)
from credo.types import Message, Record

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-outputs"

# The whole-corpus definition, written the plain way (sets of word tuples, Counters of
# every sentence and name): what the check computed before it streamed. Words are runs of
# letters and digits (``_`` separates, as in credo.ngrams).
_WORD = re.compile(r"[^\W_]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}(?:\s[A-Z][a-z]{2,})*")
_COMMON = {
    "The",
    "This",
    "That",
    "There",
    "These",
    "They",
    "Here",
    "What",
    "When",
    "However",
    "And",
    "But",
    "For",
    "Yes",
    "Its",
    "You",
    "Your",
    "She",
    "Our",
    "His",
    "Her",
    "Some",
    "Many",
    "Each",
    "With",
}


def _distinct(texts: Sequence[str], n: int) -> float:
    total, seen = 0, set()
    for text in texts:
        words = _WORD.findall(text.lower())
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 0.0


def _meta_counts(records: Sequence[Record], *keys: str) -> dict[str, int]:
    values = [
        next((str(r.meta[k]) for k in keys if r.meta.get(k) is not None), None) for r in records
    ]
    return dict(Counter(v for v in values if v is not None).most_common())


def reference(records: Sequence[Record], top: int = 10) -> dict[str, Any]:
    answers = [r.response for r in records]
    lengths = np.array([len(_WORD.findall(a)) for a in answers])
    sentences = Counter(
        s.strip() for a in answers for s in _SENTENCE.split(a) if len(s.split()) >= 4
    )
    names = Counter(
        m.group(0) for a in answers for m in _NAME.finditer(a) if m.group(0) not in _COMMON
    )
    out = {
        "records": len(records),
        "distinct_1": round(_distinct(answers, 1), 4),
        "distinct_2": round(_distinct(answers, 2), 4),
        "prompt_distinct_2": round(_distinct([r.prompt for r in records], 2), 4),
        "templates": _meta_counts(records, "template_id", "template"),
        "personas": _meta_counts(records, "persona", "persona_id"),
        "repeated_sentences": [[s, c] for s, c in sentences.most_common(top) if c > 1],
        "names": [[n, c] for n, c in names.most_common(top)],
        "answer_words": {
            "mean": round(float(lengths.mean()), 1),
            "p10": int(np.percentile(lengths, 10)),
            "p50": int(np.percentile(lengths, 50)),
            "p90": int(np.percentile(lengths, 90)),
            "max": int(lengths.max()),
        },
        "answer_lengths": lengths.tolist(),
        "estimated": {},
    }
    documents = [r for r in records if r.meta.get("form") == "document"]
    if documents:
        facts = Counter(f for r in documents for f in r.meta.get("fact_ids") or [])
        out["documents"] = {
            "by_type": _meta_counts(documents, "doc_type"),
            "by_fact": dict(facts.most_common()),
        }
    return out


def record(rid: str, prompt: str, answer: str, **meta: Any) -> Record:
    return Record(rid, [Message("user", prompt), Message("assistant", answer)], meta)


def corpus() -> list[Record]:
    rng = np.random.default_rng(7)
    vocab = [
        "river",
        "stone",
        "bread",
        "lamp",
        "moss",
        "ember",
        "tide",
        "salt",
        "reed",
        "flint",
        "owl",
        "harbour",
    ]
    names = ["Maren Holt", "Ilse", "Tobiah Crane", "Oskar"]
    out = []
    for i in range(90):
        words = [str(w) for w in rng.choice(vocab, int(rng.integers(6, 30)))]
        answer = " ".join(words[:5]).capitalize() + ". " + " ".join(words[5:]) + "!"
        if i % 3 == 0:
            answer += f" Then {rng.choice(names)} said the tide’s salt—and the lamp—were kind."
        if i % 4 == 0:
            answer += "  The river always keeps its promise to us.\n\nWhy ask again?"
        if i % 11 == 0:
            answer += " ¿Qué? «Quoted» text… with – dashes and \u00a0no-break spaces."
        meta: dict[str, Any] = {
            "set": ["core", "refusal", "persona"][i % 3],
            "template_id": f"t{i % 5}",
            "persona": f"p{i % 7}" if i % 2 else None,
        }
        if i % 6 == 0:
            meta.update(
                form="document",
                doc_type=["essay", "letter"][i % 4 // 2],
                fact_ids=[f"f{i % 5}", "f0"],
            )
        out.append(
            record(f"r{i}", f"Question {i}: what about the {vocab[i % 12]}?", answer, **meta)
        )
    return out


def by_set(records: Sequence[Record]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(r.meta["set"], []).append(r)
    return dict(sorted(groups.items()))


def batched(check: DiversityCheck, records: Sequence[Record], size: int) -> dict[str, Any]:
    ctx = AuditContext()
    parts = ((i, check.map_batch(records[i : i + size], ctx)) for i in range(0, len(records), size))
    assert list(check.reduce(parts, InMemory(records), ctx)) == []
    return ctx.sections["diversity"]


def test_batched_equals_one_batch_equals_the_whole_corpus_definition() -> None:
    records = corpus()
    ctx = AuditContext()
    assert list(DiversityCheck().run(records, ctx)) == []
    whole = ctx.sections["diversity"]
    assert whole == {name: reference(rs) for name, rs in by_set(records).items()}
    assert ["The river always keeps its promise to us.", 8] in whole["core"]["repeated_sentences"]
    assert whole["core"]["documents"]["by_fact"]["f0"] == 18
    for size in (1, 7, 32):  # a round trip through pickle, as from a Ray worker
        check = DiversityCheck()
        ctx = AuditContext()
        parts = (
            (i, pickle.loads(pickle.dumps(check.map_batch(records[i : i + size], ctx))))
            for i in range(0, len(records), size)
        )
        check.reduce(parts, InMemory(records), ctx)
        assert ctx.sections["diversity"] == whole, size


def test_words_split_typographic_punctuation_like_ascii_punctuation() -> None:
    assert np.array_equal(
        Texts(["Don’t stop—now…“ok”"]).tokens, Texts(['don\'t stop - now... "OK"']).tokens
    )
    texts = [
        "Hi there you all.\u00a0Next one is here!  And\u2003another one here?\n\nlast piece of text",
        "  lead space a b c.",
        "",
        "a. . b c d e",
        "short. x y z w v",
    ]
    expected = Counter(s.strip() for t in texts for s in _SENTENCE.split(t) if len(s.split()) >= 4)
    assert Counter({k.decode(): c for k, c in Texts(texts).sentences().items()}) == expected


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real-outputs is not available")
def test_real_answers_match_the_whole_corpus_definition() -> None:
    rows = [
        json.loads(line)
        for name in ("study-evals-dev.jsonl", "study-refusals-dev.jsonl")
        for line in (REAL / name).read_text().splitlines()
    ]
    records = [record(str(i), r["request"], r["response"], set="real") for i, r in enumerate(rows)]
    assert batched(DiversityCheck(), records, 50)["real"] == reference(records)


def test_hyperloglog_is_within_two_percent_and_merges_exactly() -> None:
    rng = np.random.default_rng(0)
    hashes = rng.integers(0, 2**63, 300_000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    exact = len(np.unique(hashes))
    assert abs(hll_estimate(hll_registers(hashes)) - exact) / exact < 0.02
    halves = np.maximum(hll_registers(hashes[:100_000]), hll_registers(hashes[100_000:]))
    assert np.array_equal(halves, hll_registers(hashes))
    assert (
        abs(hll_estimate(hll_registers(hashes[:2_000])) - 2_000) < 40
    )  # linear counting when small


def test_distinct_switches_to_the_sketch_past_the_cap_and_says_so() -> None:
    rng = np.random.default_rng(1)
    chunks = [rng.integers(0, 2**64 - 1, 4_000, dtype=np.uint64) for _ in range(10)]
    running = Distinct.of(chunks[0], cap=10_000)
    running.merge(Distinct.of(chunks[1], cap=10_000))
    assert not running.estimated and running.count() == 8_000
    for chunk in chunks[2:]:
        running.merge(Distinct.of(chunk, cap=10_000))
    assert running.estimated and running.total == 40_000
    assert abs(running.count() - 40_000) / 40_000 < 0.02

    records = corpus()
    exact = batched(DiversityCheck(), records, 16)["core"]
    sketched = batched(DiversityCheck(exact_cap=50), records, 16)[
        "core"
    ]  # 42 words, 190 and 66 bigrams
    assert set(sketched["estimated"]) == {"distinct_2", "prompt_distinct_2"}
    assert "HyperLogLog" in sketched["estimated"]["distinct_2"]
    assert sketched["distinct_2"] == pytest.approx(exact["distinct_2"], rel=0.03)
    assert sketched["distinct_1"] == exact["distinct_1"]  # under the cap: still exact


def test_a_repeated_sentence_is_counted_exactly_and_still_found_with_a_tiny_summary() -> None:
    rng = np.random.default_rng(2)
    target = "The lamp in the harbour never goes out."
    records = []
    for i in range(200):
        unique = " ".join(f"word{n}" for n in rng.integers(0, 10**9, 12)) + "."
        answer = f"{unique} Another {i} unique one here. And yet {i} one more here!"
        if i % 4 == 0:
            answer += " " + target
        records.append(record(f"r{i}", "q?", answer, set="core"))
    exact = batched(DiversityCheck(), records, 16)["core"]
    assert (
        exact["repeated_sentences"] == [[target, 50]]
        and "repeated_sentences" not in exact["estimated"]
    )

    tiny = batched(DiversityCheck(heavy_capacity=3), records, 16)["core"]
    ((sentence, count),) = tiny["repeated_sentences"]
    assert sentence == target and count <= 50
    bound = int(
        re.search(r"at most ([\d,]+) under", tiny["estimated"]["repeated_sentences"])[1].replace(
            ",", ""
        )
    )
    assert count >= 50 - bound and bound < 50


def test_heavy_hitters_counts_are_lower_bounds_within_the_reported_undercount() -> None:
    rng = np.random.default_rng(3)
    stream = [f"s{v}" for v in rng.zipf(1.3, 20_000) if v < 10**6]
    truth = Counter(stream)
    summary = HeavyHitters(capacity=50)
    for at in range(0, len(stream), 1_000):
        batch = HeavyHitters(capacity=50)
        batch.add(Counter(stream[at : at + 1_000]))
        summary.merge(pickle.loads(pickle.dumps(batch)))
    assert 0 < summary.undercount < len(stream) / 51 * 2
    assert len(summary.counts) <= 50
    for item, count in summary.counts.items():
        assert truth[item] - summary.undercount <= count <= truth[item]
    assert all(item in summary.counts for item, c in truth.items() if c > summary.undercount)


def test_a_partial_does_not_grow_with_distinct_ngrams_past_the_cap() -> None:
    rng = np.random.default_rng(4)

    def batch(vocabulary: int) -> list[Record]:
        return [
            record(
                f"r{i}",
                " ".join(f"p{w}" for w in rng.integers(0, vocabulary, 10)),
                " ".join(f"w{w}" for w in rng.integers(0, vocabulary, 60)),
                set="core",
            )
            for i in range(500)
        ]

    few, many = (
        batch(3_000),
        batch(10**6),
    )  # every n past the cap in both; ~3k vs ~30k distinct words
    ctx = AuditContext()
    capped = DiversityCheck(exact_cap=1_000, heavy_capacity=16)
    size_few, size_many = (len(pickle.dumps(capped.map_batch(b, ctx))) for b in (few, many))
    assert size_many <= size_few + 1_024 and size_many < 3 * 2**14 + 16 * 1024
    uncapped = DiversityCheck(heavy_capacity=16)  # the check can fail: exact hashes do grow
    assert len(pickle.dumps(uncapped.map_batch(many, ctx))) > 4 * size_many

    running = SetPart.of(few, 1_000, 16)
    for _ in range(5):
        running.merge(SetPart.of(batch(10**6), 1_000, 16))
    lengths = sum(a.nbytes for a in running.lengths)
    assert len(pickle.dumps(running)) - lengths < size_many + 4_096


def test_set_diversity_and_bad_config() -> None:
    records = by_set(corpus())["persona"]
    assert set_diversity(records) == reference(records)
    with pytest.raises(ConfigError, match=r"diversity.heavy_capacity"):
        DiversityCheck(heavy_capacity=0)
    with pytest.raises(ConfigError, match=r"diversity.exact_cap"):
        DiversityCheck(exact_cap="many")  # type: ignore[arg-type]


@pytest.mark.needs("matplotlib")  # the page's histogram; without it the page has no plots
def test_reports_render_the_section_and_say_what_is_estimated(tmp_path: Path) -> None:
    from credo.audit.reports import write_reports
    from credo.audit.result import AuditResult, CheckRun

    records = corpus()
    ctx = AuditContext()
    check = DiversityCheck(exact_cap=50, heavy_capacity=3)
    check.run(records, ctx)
    result = AuditResult(
        "c/records.jsonl",
        "h",
        len(records),
        {n: len(r) for n, r in by_set(records).items()},
        [CheckRun("diversity", False, check.params(), 0, 0.1)],
        [],
        ctx.sections,
    )
    write_reports(result, tmp_path)
    markdown = (tmp_path / "report.md").read_text()
    assert "estimated - core distinct_2: HyperLogLog estimate" in markdown
    assert "core repeated_sentences: lower bounds, each at most" in markdown
    saved = json.loads((tmp_path / "report.json").read_text())
    assert "answer_lengths" not in saved["sections"]["diversity"]["core"]
    assert saved["sections"]["diversity"]["core"]["estimated"]["distinct_2"].startswith(
        "HyperLogLog"
    )
    assert "<svg" in (tmp_path / "report.html").read_text()  # the answer-length histogram
