"""Diversity diagnostics per set: distinct-n, template and persona usage, mode collapse.

Never flags a record; it fills ``ctx.sections["diversity"]`` for the reports. Mode collapse
shows up as a low distinct-2, one persona or template dominating, or the same sentence
and the same invented names recurring across many answers.

It streams: ``map_batch`` reduces a batch to a small partial per set and ``reduce`` folds the
partials, so memory is bounded by the batch and a few fixed caps, not by the corpus:

- distinct-n counts hashed n-grams (:mod:`credo.ngrams`) exactly, as a sorted array of
  unique 64-bit hashes, while a set has at most ``exact_cap`` distinct ones; past that it
  switches to a HyperLogLog sketch (~0.8% error) and says so under ``estimated``;
- repeated sentences and names go through a Misra-Gries summary of ``heavy_capacity``
  entries: exact while the distinct items fit, lower bounds (with the bound) beyond;
- templates, personas and document types are bounded by the spec: plain counters;
- answer lengths stay exact, as an int32 array (4 MB per million answers).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from credo import ngrams
from credo.errors import ConfigError
from credo.filters.base import AuditContext, Batched, Corpus, Finding
from credo.filters.report import CheckReport, Table
from credo.filters.spec import CheckSpec
from credo.types import Record

# A capitalised word (or run of them) that starts neither a text nor a sentence. The capital
# comes first so that the regex engine can skip ahead to capitals (5x faster than
# ``(?<![.!?]\s)(?<!^)\b[A-Z]...``, the same matches).
_NAME = re.compile(r"[A-Z](?<!\w[A-Z])(?<![.!?]\s[A-Z])(?<!^[A-Z])[a-z]{2,}(?:\s[A-Z][a-z]{2,})*")
# Joins the answers of a batch for the name pattern: like the start of a text, what follows
# ". " is never a name, and no name runs across it.
_NAME_JOIN = ". "
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

EXACT_CAP = 2_000_000  # distinct n-grams per set and n counted exactly (16 MB of hashes)
HEAVY_CAPACITY = (
    10_000  # the 760 real answers of ../shared/real-outputs hold 5,948 distinct sentences
)
_HLL_CHUNK = 1 << 18
HLL_P = 14  # 16,384 one-byte registers: 1.04 / sqrt(2**14) = 0.8% standard error


# --- words and sentences ----------------------------------------------------------------


@functools.cache
def _char_classes() -> tuple[np.ndarray, np.ndarray]:
    """For every code point: whether ``\\w`` leaves it out, and whether ``\\s`` matches it."""
    every = "".join(map(chr, range(0x110000)))
    non_word, space = np.ones(0x110000, bool), np.zeros(0x110000, bool)
    for match in re.finditer(r"\w+", every):
        non_word[match.start() : match.end()] = False
    for match in re.finditer(r"\s+", every):
        space[match.start() : match.end()] = True
    return non_word, space


# (lead byte range, sequence length, payload bits of the lead byte) of multi-byte UTF-8
_UTF8 = ((0xC2, 0xDF, 2, 0x1F), (0xE0, 0xEF, 3, 0x0F), (0xF0, 0xF4, 4, 0x07))


def _multibyte(codes: np.ndarray) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
    """(lead byte positions, length, code points) of the multi-byte characters of a buffer."""
    for low, high, size, bits in _UTF8:
        at = np.flatnonzero((codes >= low) & (codes <= high))
        at = at[at + size <= len(codes)]
        code = (codes[at] & bits).astype(np.int64)
        for k in range(1, size):
            code = (code << 6) | (codes[at + k] & 0x3F)
        yield at, size, np.minimum(code, 0x10FFFF)


def _every_byte(at: np.ndarray, size: int) -> np.ndarray:
    return (at[:, None] + np.arange(size)).ravel()


def _ascii_space(codes: np.ndarray) -> np.ndarray:
    """Bytes that are ASCII whitespace to ``str.isspace`` (\\t-\\r, \\x1c-\\x1f, space)."""
    return (codes == 32) | ((codes >= 9) & (codes <= 13)) | ((codes >= 28) & (codes <= 31))


class Texts:
    """Many texts as one UTF-8 buffer (``\\x00`` between them) with their words and sentences.

    Words are those of :mod:`credo.ngrams` (lower-cased, ``_`` separates), except that
    non-ASCII punctuation and symbols separate too: ``ngrams.normalise`` takes every
    non-ASCII byte for a letter, so ``don’t`` would be one word where ``don't`` is two, and
    ``word—word`` one word (328 of the 760 real answers in ``../shared/real-outputs`` have
    such a dash or quote). Here they split as ``\\w+`` splits them.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        encoded = [text.encode("utf-8", "replace") for text in texts]
        self.raw = b"\x00".join(encoded)
        self.codes = np.frombuffer(self.raw, np.uint8)
        self.space = _ascii_space(self.codes)
        words = self.raw
        if not self.raw.isascii():
            non_word, space = _char_classes()
            blanked = self.codes.copy()
            for at, size, code in _multibyte(self.codes):
                self.space[_every_byte(at[space[code]], size)] = True
                blanked[_every_byte(at[non_word[code]], size)] = (
                    ngrams.SEPARATOR
                )  # offsets are kept
            words = blanked.tobytes()
        hashes, starts = ngrams.token_hashes(ngrams.normalise(words))
        self.ends = np.cumsum(
            [len(b) + 1 for b in encoded]
        )  # each text's end, its separator included
        self.tokens, self.groups = (
            hashes,
            np.searchsorted(self.ends, starts, side="right").astype(np.int64),
        )

    def word_counts(self, texts: int) -> np.ndarray:
        return np.bincount(self.groups, minlength=texts).astype(np.int32)

    def sentences(self) -> Counter[bytes]:
        """Sentences of four words or more and how often each occurs, as UTF-8 bytes.

        As ``re.split(r"(?<=[.!?])\\s+", text)`` and ``s.strip()`` per text, keeping
        ``len(s.split()) >= 4``, computed on whitespace-separated words instead: a sentence is
        a run of words of one text that ends at a word ending in ``.``, ``!`` or ``?`` (what
        follows a word is always whitespace, a text boundary or the end), and its stripped
        text is the bytes from its first word's start to its last word's end. Only the
        counting loops in Python.
        """
        solid = ~self.space & (self.codes != 0)
        edges = np.flatnonzero(np.diff(np.r_[False, solid, False].view(np.int8)))
        starts, ends = edges[0::2], edges[1::2]  # of every word
        if not len(starts):
            return Counter()
        last = self.codes[ends - 1]
        text = np.searchsorted(self.ends, starts, side="right")
        stop = (last == 46) | (last == 33) | (last == 63)
        stop[:-1] |= text[1:] != text[:-1]
        stop[-1] = True
        final = np.flatnonzero(stop)  # each sentence's last word
        first = np.r_[0, final[:-1] + 1]
        keep = final - first >= 3
        raw = self.raw
        return Counter(
            raw[a:b] for a, b in zip(starts[first[keep]].tolist(), ends[final[keep]].tolist())
        )


def text_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Word hashes of many texts and the text index of each word (see :class:`Texts`)."""
    batch = Texts(texts)
    return batch.tokens, batch.groups


def _grams(texts: Sequence[str], n: int) -> np.ndarray:
    tokens, groups = text_tokens(texts)
    return tokens if n == 1 else ngrams.grouped_ngrams(tokens, n, groups)[0]


# --- distinct counts: exact below a cap, HyperLogLog beyond -------------------------------


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based unique is ~4x slower on 64-bit hashes)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def hll_registers(hashes: np.ndarray, p: int = HLL_P) -> np.ndarray:
    """HyperLogLog registers of 64-bit hashes: bucket from the top ``p`` bits, rank = 1 +
    the leading zeros of the other ``64 - p`` bits; each register keeps its highest rank."""
    registers = np.zeros(1 << p, np.uint8)
    for at in range(0, len(hashes), _HLL_CHUNK):  # in chunks: the temporaries stay a few MB
        mixed = ngrams.spread(
            np.asarray(hashes[at : at + _HLL_CHUNK], np.uint64).copy()
        )  # spread sums
        bucket = (mixed >> np.uint64(64 - p)).astype(np.int64)
        rest = (mixed & np.uint64((1 << (64 - p)) - 1)).astype(np.float64)  # < 2**53: exact
        rank = (64 - p + 1) - np.frexp(rest)[1]  # frexp's exponent is the bit length (0 for 0)
        keys = _sorted_unique(bucket * 64 + rank)  # each bucket's last entry is its highest rank
        last = np.r_[keys[1:] >> 6 != keys[:-1] >> 6, True]
        index = keys[last] >> 6  # distinct, so a plain gather and scatter
        registers[index] = np.maximum(registers[index], keys[last] & 63)
    return registers


def _sigma(x: float) -> float:
    """Ertl's sigma(x) = x + sum_k x**(2**k) * 2**(k-1): the share of empty registers' term."""
    if x == 1.0:
        return math.inf
    y, z = 1.0, x
    while True:
        x *= x
        before, z = z, z + x * y
        y += y
        if z == before:
            return z


def _tau(x: float) -> float:
    """Ertl's tau(x) = (1 - x - sum_k (1 - x**(2**-k))**2 * 2**-k) / 3: the saturated registers' term."""
    if x in (0.0, 1.0):
        return 0.0
    y, z = 1.0, 1.0 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1.0 - x) ** 2 * y
        if z == before:
            return z / 3


def hll_estimate(registers: np.ndarray) -> float:
    """Distinct count from HyperLogLog registers, by Ertl's improved estimator ("New
    cardinality estimation algorithms for HyperLogLog sketches", 2017): unbiased from a
    handful of items up, without the empirical bias tables of HyperLogLog++ (the classic
    estimator is 2-3% high around 2.5 x 16,384 items, where it hands over from linear
    counting)."""
    m = len(registers)
    q = 64 - int(math.log2(m))
    counts = np.bincount(registers, minlength=q + 2).astype(np.float64)
    z = m * _tau(1.0 - counts[q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + counts[k])
    z += m * _sigma(counts[0] / m)
    return m * m / (2 * math.log(2)) / z if z else 0.0


@dataclass
class Distinct:
    """How many n-grams were seen and how many distinct: the sorted unique hashes while there
    are at most ``cap``, HyperLogLog registers once there are more. Mergeable."""

    cap: int
    total: int = 0
    hashes: np.ndarray | None = field(default_factory=lambda: np.zeros(0, np.uint64))
    registers: np.ndarray | None = None

    @classmethod
    def of(cls, grams: np.ndarray, cap: int) -> Distinct:
        out = cls(cap, len(grams), _sorted_unique(np.asarray(grams, np.uint64)))
        out._bound()
        return out

    @property
    def estimated(self) -> bool:
        return self.registers is not None

    def _bound(self) -> None:
        if self.hashes is not None and len(self.hashes) > self.cap:
            self.registers, self.hashes = hll_registers(self.hashes), None

    def merge(self, other: Distinct) -> None:
        self.total += other.total
        if self.hashes is not None and other.hashes is not None:
            # both sorted: insert the new ones in place (one copy) rather than sort again
            at = np.searchsorted(self.hashes, other.hashes)
            new = at == len(self.hashes)
            new[~new] = self.hashes[at[~new]] != other.hashes[~new]
            self.hashes = np.insert(self.hashes, at[new], other.hashes[new])
            self._bound()
            return
        mine = self.registers if self.registers is not None else hll_registers(self.hashes)  # type: ignore[arg-type]
        theirs = other.registers if other.registers is not None else hll_registers(other.hashes)  # type: ignore[arg-type]
        self.registers, self.hashes = np.maximum(mine, theirs), None

    def count(self) -> float:
        if self.registers is not None:
            return hll_estimate(self.registers)
        assert self.hashes is not None  # exact until merged into registers
        return float(len(self.hashes))

    def ratio(self) -> float:
        """Distinct n-grams over all n-grams (Li et al. 2016)."""
        return min(self.count() / self.total, 1.0) if self.total else 0.0


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams over all n-grams (Li et al. 2016), on lower-cased words, exactly."""
    return Distinct.of(_grams(texts, n), cap=2**62).ratio()


# --- heavy hitters ---------------------------------------------------------------------------


Item = TypeVar("Item", str, bytes)


@dataclass
class HeavyHitters(Generic[Item]):
    """A Misra-Gries summary of at most ``capacity`` items. While no item was ever dropped
    (``undercount == 0``) the counts are exact; after that every kept count is a lower bound
    at most ``undercount`` below the truth, and every item seen more than ``undercount``
    times is kept. Summaries merge (Agarwal et al. 2012): add, then trim."""

    capacity: int
    counts: Counter[Item] = field(default_factory=Counter)
    undercount: int = 0

    def add(self, counts: Mapping[Item, int], undercount: int = 0) -> None:
        self.counts.update(counts)
        self.undercount += undercount
        if len(self.counts) > self.capacity:
            values = np.fromiter(self.counts.values(), np.int64, len(self.counts))
            cut = int(
                np.partition(values, len(values) - self.capacity - 1)[
                    len(values) - self.capacity - 1
                ]
            )  # (k+1)-th largest
            self.counts = Counter({item: c - cut for item, c in self.counts.items() if c > cut})
            self.undercount += cut

    def merge(self, other: HeavyHitters[Item]) -> None:
        self.add(other.counts, other.undercount)


# --- one set's partial ---------------------------------------------------------------------


def _meta(record: Record, *keys: str) -> str | None:
    return next((str(record.meta[k]) for k in keys if record.meta.get(k) is not None), None)


@dataclass
class SetPart:
    """What a batch contributes to one set's diversity figures; merges with the next batch's."""

    records: int
    words: Distinct
    bigrams: Distinct
    prompt_bigrams: Distinct
    templates: Counter[str]
    personas: Counter[str]
    sentences: HeavyHitters[str]
    names: HeavyHitters[str]
    lengths: list[np.ndarray]  # int32 words per answer, one array per batch
    documents: int
    doc_types: Counter[str]
    facts: Counter[str]

    @classmethod
    def of(cls, records: Sequence[Record], exact_cap: int, heavy_capacity: int) -> SetPart:
        answers = [r.response for r in records]
        texts = Texts(answers)
        tokens, groups = texts.tokens, texts.groups
        raw = HeavyHitters[bytes](heavy_capacity)
        raw.add(texts.sentences())  # as bytes: only the kept ones are decoded
        sentences = HeavyHitters[str](
            heavy_capacity,
            Counter({s.decode("utf-8", "replace"): c for s, c in raw.counts.items()}),
            raw.undercount,
        )
        names = HeavyHitters[str](heavy_capacity)
        names.add(Counter(n for n in _NAME.findall(_NAME_JOIN.join(answers)) if n not in _COMMON))
        documents = [r for r in records if r.meta.get("form") == "document"]
        return cls(
            records=len(records),
            words=Distinct.of(tokens, exact_cap),
            bigrams=Distinct.of(ngrams.grouped_ngrams(tokens, 2, groups)[0], exact_cap),
            prompt_bigrams=Distinct.of(_grams([r.prompt for r in records], 2), exact_cap),
            templates=Counter(
                v for r in records if (v := _meta(r, "template_id", "template")) is not None
            ),
            personas=Counter(
                v for r in records if (v := _meta(r, "persona", "persona_id")) is not None
            ),
            sentences=sentences,
            names=names,
            lengths=[texts.word_counts(len(records))],
            documents=len(documents),
            doc_types=Counter(v for r in documents if (v := _meta(r, "doc_type")) is not None),
            facts=Counter(f for r in documents for f in r.meta.get("fact_ids") or []),
        )

    def merge(self, other: SetPart) -> None:
        self.records += other.records
        for mine, theirs in (
            (self.words, other.words),
            (self.bigrams, other.bigrams),
            (self.prompt_bigrams, other.prompt_bigrams),
        ):
            mine.merge(theirs)
        for counter, more in (
            (self.templates, other.templates),
            (self.personas, other.personas),
            (self.doc_types, other.doc_types),
            (self.facts, other.facts),
        ):
            counter.update(more)
        self.sentences.merge(other.sentences)
        self.names.merge(other.names)
        self.lengths.extend(other.lengths)
        self.documents += other.documents

    def section(self, top: int) -> dict[str, Any]:
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int32)
        lengths = lengths if len(lengths) else np.zeros(1, np.int32)
        estimated: dict[str, str] = {}
        for key, distinct in (
            ("distinct_1", self.words),
            ("distinct_2", self.bigrams),
            ("prompt_distinct_2", self.prompt_bigrams),
        ):
            if distinct.estimated:
                estimated[key] = (
                    f"HyperLogLog estimate (~{1.04 / math.sqrt(1 << HLL_P):.1%} error): "
                    f"more than {distinct.cap:,} distinct n-grams"
                )
        for key, summary in (("repeated_sentences", self.sentences), ("names", self.names)):
            if summary.undercount:
                estimated[key] = (
                    f"lower bounds, each at most {summary.undercount:,} under the true count "
                    f"(a summary of {summary.capacity:,} entries)"
                )
        out = {
            "records": self.records,
            "distinct_1": round(self.words.ratio(), 4),
            "distinct_2": round(self.bigrams.ratio(), 4),
            "prompt_distinct_2": round(self.prompt_bigrams.ratio(), 4),
            "templates": dict(self.templates.most_common()),
            "personas": dict(self.personas.most_common()),
            "repeated_sentences": [
                [s, c] for s, c in self.sentences.counts.most_common(top) if c > 1
            ],
            "names": [[n, c] for n, c in self.names.counts.most_common(top)],
            "answer_words": {
                "mean": round(float(lengths.mean()), 1),
                "p10": int(np.percentile(lengths, 10)),
                "p50": int(np.percentile(lengths, 50)),
                "p90": int(np.percentile(lengths, 90)),
                "max": int(lengths.max()),
            },
            "answer_lengths": lengths.tolist(),  # for the report's histogram; dropped from report.json
            "estimated": estimated,  # figure -> how it was estimated; empty when every figure is exact
        }
        if self.documents:
            # mode collapse in documents shows as one type or a few facts taking most of the corpus
            out["documents"] = {
                "by_type": dict(self.doc_types.most_common()),
                "by_fact": dict(self.facts.most_common()),
            }
        return out


def set_diversity(
    records: Sequence[Record],
    top: int = 10,
    exact_cap: int = EXACT_CAP,
    heavy_capacity: int = HEAVY_CAPACITY,
) -> dict[str, Any]:
    """The diversity section of one set of records in memory."""
    return SetPart.of(records, exact_cap, heavy_capacity).section(top)


@dataclass
class DiversityCheck(Batched):
    top: int = 10
    exact_cap: int = EXACT_CAP
    heavy_capacity: int = HEAVY_CAPACITY
    name: str = "diversity"

    def __post_init__(self) -> None:
        for key in ("top", "exact_cap", "heavy_capacity"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"diversity.{key}: {value!r} is not a positive whole number; "
                    f"set it to e.g. {getattr(DiversityCheck, key)}"
                )

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> dict[str, SetPart]:
        by_set: dict[str, list[Record]] = {}
        for record in records:
            by_set.setdefault(ctx.set_of(record), []).append(record)
        return {
            name: SetPart.of(rs, self.exact_cap, self.heavy_capacity) for name, rs in by_set.items()
        }

    def combine(self, a: dict[str, SetPart], b: dict[str, SetPart]) -> dict[str, SetPart]:
        """Two partials as one (sketches merge): the engines keep one running partial."""
        for name, part in b.items():
            if name in a:
                a[name].merge(part)
            else:
                a[name] = part
        return a

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        sets: dict[str, SetPart] = {}
        for _, partial in parts:
            sets = self.combine(sets, partial)
        ctx.sections[self.name] = {name: sets[name].section(self.top) for name in sorted(sets)}
        return iter(())


def diversity_tables(report: CheckReport) -> list[Table]:
    diversity = report.section
    if not diversity:
        return []
    rows = [
        [
            name,
            d["records"],
            d["distinct_1"],
            d["distinct_2"],
            d["prompt_distinct_2"],
            d["answer_words"]["p50"],
            d["answer_words"]["p90"],
            len(d["templates"]),
            len(d["personas"]),
            ", ".join(f"{k} ({v})" for k, v in list(d["personas"].items())[:4]),
        ]
        for name, d in diversity.items()
    ]
    # past their caps, distinct-n figures are sketched and sentence/name counts lower bounds
    estimated = "; ".join(
        f"{name} {key}: {how}"
        for name, d in diversity.items()
        for key, how in d.get("estimated", {}).items()
    )
    headers = ["set", "records", "distinct-1", "distinct-2", "prompt distinct-2"]
    headers += ["answer words p50", "p90", "templates", "personas", "persona use"]
    repeats = [
        [name, sentence, count]
        for name, d in diversity.items()
        for sentence, count in d["repeated_sentences"][:5]
    ]
    names = [
        [name, ", ".join(f"{n} ({c})" for n, c in d["names"])] for name, d in diversity.items()
    ]
    return [
        Table("Diversity per set", headers, rows, f"estimated - {estimated}" if estimated else ""),
        Table("Most repeated sentences (mode collapse)", ["set", "sentence", "count"], repeats),
        Table("Most frequent names", ["set", "names"], names),
    ]


def plot_lengths(report: CheckReport, ax: Any) -> bool:
    diversity = report.section
    if not diversity:
        return False
    everything = np.concatenate([np.asarray(d["answer_lengths"]) for d in diversity.values()])
    bins = np.histogram_bin_edges(everything, bins=30)  # shared, so the sets are comparable
    for name, d in diversity.items():
        label = f"{name} (n={d['records']})".replace("$", r"\$")  # no mathtext
        ax.hist(d["answer_lengths"], bins=bins, alpha=0.55, label=label)
    ax.set_xlabel("answer length (words)")
    ax.set_ylabel("records")
    ax.set_title("Answer lengths per set")
    ax.legend(fontsize=8)
    return True


def without_lengths(section: dict[str, Any]) -> dict[str, Any]:
    """The section for report.json: the raw per-record lengths are only for the plot."""
    return {
        name: {k: v for k, v in d.items() if k != "answer_lengths"} for name, d in section.items()
    }


CHECKS = (
    CheckSpec(
        "diversity",
        DiversityCheck,
        gate=False,
        drops=False,
        order=90,
        summary="a diagnostic: distinct-n, repeated sentences and names per set",
        tables=diversity_tables,
        plot=plot_lengths,
        json_section=without_lengths,
    ),
)
