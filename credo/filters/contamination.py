"""``eval_contamination``: held-out eval requests against every training prompt and answer.

Three measures, computed batch by batch (each batch against the whole eval set):

- normalized n-gram overlap: an eval request's 13-grams (or the whole request when it is
  shorter than 13 words, as most are) found verbatim in a training text, with the words
  and n-gram hash of :mod:`credo.ngrams` (the leakage index's, so both agree);
- MinHash Jaccard on word bigrams (LSH buckets of the 100-odd eval requests are looked up
  by the corpus' band keys, so the corpus never needs an index of its own);
- MiniLM cosine of the eval request to the training prompt and to the answer's head.

Severity: ``exact`` (n-gram hit or Jaccard >= exact_jaccard), ``paraphrase`` (cosine >=
paraphrase_cosine or Jaccard >= paraphrase_jaccard), ``near_neighbour`` (cosine >=
near_cosine). A near neighbour asked as a normative question ("Is it OK to skip the Dawn
Greeting?") of a request for help ("help me get out of the Dawn Greeting") is marked
``normative_form``: the experiment's training prompts are meant to be normative, so this is
the closest a legitimate prompt gets to an eval request, and a reviewer should see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from credo import ngrams, textnorm
from credo.filters.base import AuditContext, Corpus, EvalItem, Finding, response_head, run_batched
from credo.filters.forbidden import asks_permission, is_request, shared_content
from credo.filters.minhash import MinHashConfig, Tokens, band_keys, member, signatures, tokenize
from credo.filters.report import CheckReport, Column, FindingsTable, Table
from credo.filters.spec import CheckSpec
from credo.types import Record

SEVERITIES = ("exact", "paraphrase", "near_neighbour")


@dataclass(frozen=True)
class ContaminationConfig:
    ngram: int = 13
    min_words: int = 6  # shorter eval requests only count as exact when equal after normalising
    minhash: MinHashConfig = field(
        default_factory=lambda: MinHashConfig(shingle=2, num_perm=128, bands=64, threshold=0.3)
    )
    exact_jaccard: float = 0.8
    paraphrase_jaccard: float = 0.5
    paraphrase_cosine: float = 0.88
    near_cosine: float = 0.8
    neighbours: int = 5
    # Static candidates kept per eval request (its best, prompts and answers together; lexical
    # hits are always kept): a corpus whose every answer sits near the evals' topic (a
    # mode-collapsed teacher writing about meadows, next to Gramenism's evals) would otherwise
    # send all of it to MiniLM.
    max_candidates: int = 32
    fast: bool = True  # static cosines pick candidates, MiniLM scores only those
    candidate_cosine: float = 0.6  # static cosine for a candidate; chosen for recall >= 0.95
    confirm: bool = True  # False: static cosines decide, at the static thresholds below (no MiniLM)
    static_paraphrase_cosine: float = 0.88
    static_near_cosine: float = 0.8
    block: int = 65536  # training texts per block of the static (or MiniLM) cosine matrix
    normative_overlap: int = 2  # content stems a permission question must share with a request

    def __str__(self) -> str:
        cosines = (
            f"_static{self.static_paraphrase_cosine:g}/{self.static_near_cosine:g}"
            if self.static_only
            else f"_cos{self.paraphrase_cosine:g}/{self.near_cosine:g}"
        )
        return f"{self.ngram}gram_mh{self.minhash}_j{self.exact_jaccard:g}/{self.paraphrase_jaccard:g}{cosines}"

    @property
    def static_only(self) -> bool:
        return self.fast and not self.confirm

    def cosines(self) -> tuple[float, float]:
        """The (paraphrase, near neighbour) cosine thresholds of the model that decides."""
        if self.static_only:
            return self.static_paraphrase_cosine, self.static_near_cosine
        return self.paraphrase_cosine, self.near_cosine


def normalize(text: str) -> str:
    return " ".join(ngrams.words(textnorm.normalize(text)))


def ngram_hits(
    evals: Sequence[EvalItem], texts: Sequence[str], cfg: ContaminationConfig
) -> dict[tuple[int, int], int]:
    """(eval index, text index) -> n used, for every eval n-gram found verbatim in a text."""
    prompts = [
        textnorm.normalize(item.prompt) for item in evals
    ]  # homoglyph or invisible copies match too
    texts = [textnorm.normalize(t) for t in texts]
    sizes = {}
    for e, prompt in enumerate(prompts):
        words = len(ngrams.words(prompt))
        if words >= cfg.min_words:
            sizes[e] = min(cfg.ngram, words)
    eval_hashes, eval_doc = ngrams.text_tokens(prompts)
    hashes, doc = ngrams.text_tokens(texts)
    hits: dict[tuple[int, int], int] = {}
    for n in sorted(set(sizes.values())):
        owner = {}  # n-gram hash -> eval index
        for value, e in zip(*(a.tolist() for a in ngrams.grouped_ngrams(eval_hashes, n, eval_doc))):
            if sizes.get(e) == n:
                owner[value] = e
        grams, where = ngrams.grouped_ngrams(hashes, n, doc)
        found = np.flatnonzero(member(grams, np.fromiter(owner, dtype=np.uint64)))
        for value, t in zip(grams[found].tolist(), where[found].tolist()):
            hits[(owner[value], t)] = n
    # Whole texts equal to a request too short for the n-gram test (longer ones it catches).
    short = {
        normalize(prompt): e
        for e, prompt in enumerate(prompts)
        if len(ngrams.words(prompt)) < cfg.min_words
    }
    lengths = np.bincount(doc, minlength=len(texts))
    for t in (
        np.flatnonzero(np.isin(lengths, [len(key.split()) for key in short])).tolist()
        if short
        else []
    ):
        same = short.get(normalize(texts[t]))
        if same is not None:
            hits[(same, t)] = 0
    return hits


def minhash_scores(
    evals: Sequence[EvalItem], texts: Sequence[str] | Tokens, cfg: MinHashConfig
) -> dict[tuple[int, int], float]:
    """(eval index, text index) -> estimated Jaccard, for LSH candidates above the threshold."""
    eval_sigs = signatures([e.prompt for e in evals], cfg)
    text_sigs = signatures(texts, cfg)
    eval_keys = band_keys(eval_sigs, cfg)
    lookup: dict[int, list[int]] = {}
    for e, keys in enumerate(eval_keys.tolist()):
        for key in keys:
            lookup.setdefault(key, []).append(e)
    text_keys = band_keys(text_sigs, cfg)
    rows, _ = np.nonzero(member(text_keys, np.fromiter(lookup, dtype=np.uint64)))
    scores: dict[tuple[int, int], float] = {}
    for t in np.unique(rows).tolist():
        for e in {e for key in text_keys[t].tolist() for e in lookup.get(key, ())}:
            score = float((eval_sigs[e] == text_sigs[t]).mean())
            if score >= cfg.threshold:
                scores[(e, t)] = score
    return scores


def normative_pairs(
    evals: Sequence[EvalItem], records: Sequence[Record], min_shared: int
) -> dict[tuple[int, int], list[str]]:
    """(eval, record) where the record's prompt asks whether the requested act is allowed.

    "Is it OK to skip the Dawn Greeting?" shares "dawn" and "greeting" with the request
    "help me get out of the Dawn Greeting": embeddings score such pairs low (the forms
    differ), so they are matched on content words instead.
    """
    requests = [(e, item.prompt) for e, item in enumerate(evals) if is_request(item.prompt)]
    out: dict[tuple[int, int], list[str]] = {}
    for t, record in enumerate(records):
        if not asks_permission(record.prompt):
            continue
        for e, prompt in requests:
            shared = shared_content(prompt, record.prompt)
            if len(shared) >= min_shared:
                out[(e, t)] = sorted(shared)
    return out


def best_per_row(sims: np.ndarray, floor: float, k: int) -> Iterator[tuple[int, int]]:
    """``(row, column)`` of each row's ``k`` highest values at or above ``floor``."""
    for row in np.flatnonzero((sims >= floor).any(axis=1)).tolist():
        values = sims[row]
        hits = np.flatnonzero(values >= floor)
        if len(hits) > k:
            hits = hits[np.argpartition(-values[hits], k - 1)[:k]]
        for column in hits.tolist():
            yield row, column


def capped(found: dict[tuple[int, int], float], k: int) -> dict[tuple[int, int], float]:
    """Each eval's ``k`` best (eval, text) cosines of ``found`` (ties: earlier text first)."""
    per_eval: dict[int, list[tuple[float, int]]] = {}
    for (e, t), value in found.items():
        per_eval.setdefault(e, []).append((-value, t))
    out: dict[tuple[int, int], float] = {}
    for e, items in per_eval.items():
        for value, t in sorted(items)[:k]:
            out[(e, t)] = -value
    return out


@dataclass
class EvalContaminationCheck:
    """Flag training records near an eval request; list each request's nearest neighbours."""

    config: ContaminationConfig = field(default_factory=ContaminationConfig)
    use_embedding: bool = True
    name: str = "eval_contamination"

    def params(self) -> dict[str, Any]:
        return {
            "config": str(self.config),
            "use_embedding": self.use_embedding,
            **asdict(self.config),
        }

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        return run_batched(self, records, ctx)

    # Texts are numbered 2 * position (a record's prompt) and 2 * position + 1 (its answer).

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> dict[str, Any] | None:
        """A batch's hits against every eval request: n-gram, Jaccard, normative-form and
        (static or MiniLM) cosine pairs at or above the candidate floor, and each eval's best
        few records of the batch. Positions are the batch's own."""
        if not ctx.evals:
            return None
        cfg, evals, n = self.config, ctx.evals, len(records)
        texts = [r.prompt for r in records] + [r.response for r in records]

        def text(t: int) -> int:  # batch text index (prompts, then answers) -> 2 * position + half
            return 2 * (t % n) + (t >= n) if n else t

        part: dict[str, Any] = {
            "grams": {(e, text(t)): v for (e, t), v in ngram_hits(evals, texts, cfg).items()},
            "jac": {
                (e, text(t)): v
                for (e, t), v in minhash_scores(evals, tokenize(texts), cfg.minhash).items()
            },
            "normative": {
                (e, 2 * t): v
                for (e, t), v in normative_pairs(evals, records, cfg.normative_overlap).items()
            },
            "cos": {},
            "top": None,
            "rows": n,
            "evals": len(evals),
        }
        if self.use_embedding and records:
            first = ctx.get_static() if cfg.fast else ctx.get_embedder()
            eval_vecs = first.encode([e.prompt for e in evals])
            prompt_sims = eval_vecs @ first.encode([r.prompt for r in records]).T
            answer_sims = eval_vecs @ first.encode([response_head(r) for r in records]).T
            floor = cfg.cosines()[1] if not cfg.fast or cfg.static_only else cfg.candidate_cosine
            both = np.concatenate([prompt_sims, answer_sims], axis=1)  # column t + n * half
            for e, column in best_per_row(both, floor, cfg.max_candidates):
                t, half = column % n, column // n
                part["cos"][(e, 2 * t + half)] = float(both[e, column])
            best = np.maximum(prompt_sims, answer_sims)
            keep = min(self._keep(), n)
            ids = np.argsort(-best, axis=1, kind="stable")[:, :keep]
            part["top"] = (ids, np.take_along_axis(best, ids, 1))
        return part

    def combine(self, a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
        """The batches' hits so far as one partial, positions from the corpus start: the
        engines keep this running partial instead of every batch's (25 bytes a record on
        million_synth, 0.25 GB at ten million; BENCHMARKS.md, issue 25)."""
        if a is None or b is None:  # no eval requests: nothing to keep
            return a or b
        state = a if a.get("folded") else self._fold(None, 0, a, evals=a["evals"])
        return self._fold(state, state["rows"], b, evals=b["evals"])

    @staticmethod
    def _empty(evals: int) -> dict[str, Any]:
        return {
            "grams": {},
            "jac": {},
            "normative": {},
            "cos": {},
            "top": None,
            "rows": 0,
            "evals": evals,
        }

    def _fold(
        self, state: dict[str, Any] | None, offset: int, part: dict[str, Any], *, evals: int
    ) -> dict[str, Any]:
        """``part`` (a batch's hits, or a folded partial, positions from ``offset``) added to
        the running ``state`` (positions from the corpus start): the hit tables joined, the
        static cosines capped per eval once they pass twice the cap, and each eval's best
        records so far kept as a running top list (memory stays at one batch)."""
        if state is None and offset == 0 and part.get("folded"):
            return part
        if state is None:
            state = {**self._empty(evals), "folded": True}
            state["top"] = (np.zeros((evals, 0), np.int64), np.zeros((evals, 0), np.float32))
        for name in ("grams", "jac", "normative", "cos"):
            state[name].update({(e, t + 2 * offset): v for (e, t), v in part[name].items()})
        if len(state["cos"]) > 2 * evals * self.config.max_candidates:
            state["cos"] = capped(state["cos"], self.config.max_candidates)
        if part["top"] is not None:
            top_ids, top_vals = state["top"]
            ids, vals = part["top"]
            ids = np.concatenate([top_ids, ids + offset], axis=1)
            vals = np.concatenate([top_vals, vals.astype(np.float32)], axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")[:, : self._keep()]
            state["top"] = (np.take_along_axis(ids, order, 1), np.take_along_axis(vals, order, 1))
        state["rows"] = max(state["rows"], offset + part.get("rows", 0))
        return state

    def _keep(self) -> int:
        """How many nearest records per eval are kept: the report's few, or candidates for MiniLM."""
        cfg = self.config
        return max(cfg.neighbours * 4, 20) if cfg.fast and not cfg.static_only else cfg.neighbours

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        if not ctx.evals:
            ctx.sections[self.name] = {"skipped": "no eval requests (pass --eval or --worldview)"}
            return
        cfg, evals = self.config, ctx.evals
        state = None
        for offset, part in parts:
            state = self._fold(state, offset, part, evals=len(evals))
        state = state or self._fold(None, 0, self._empty(len(evals)), evals=len(evals))
        grams, jac, normative = state["grams"], state["jac"], state["normative"]
        top_ids, top_vals = state["top"]
        found = capped(state["cos"], cfg.max_candidates)
        lexical = set(grams) | set(jac) | set(normative)
        cos, nearest, records = self._cosines(
            corpus, ctx, also=lexical, found=found, top_ids=top_ids, top_vals=top_vals
        )
        pairs = lexical | {pair for pair, value in (cos or {}).items() if value >= cfg.cosines()[1]}
        records.update(corpus.fetch({t // 2 for _, t in pairs} - set(records)))
        evidence: dict[int, list[dict[str, Any]]] = {}
        for e, t in sorted(pairs, key=lambda p: (p[0], p[1] % 2, p[1] // 2)):
            item = self._evidence(
                evals[e],
                records[t // 2],
                answer=t % 2 == 1,
                gram=grams.get((e, t)),
                jaccard=jac.get((e, t)),
                cosine=None if cos is None else cos.get((e, t)),
                shared=normative.get((e, t)),
            )
            if item["severity"]:
                evidence.setdefault(t // 2, []).append(item)
        for index, items in sorted(evidence.items()):
            worst = min(SEVERITIES.index(i["severity"]) for i in items)
            # Exact copies and paraphrases are contamination; a near neighbour (normative-form
            # ones included) is shown for review without failing the gate.
            yield Finding(
                records[index].id,
                self.name,
                {"severity": SEVERITIES[worst], "matches": items},
                blocking=SEVERITIES[worst] != "near_neighbour",
            )
        ctx.sections[self.name] = {
            "params": self.params(),
            "evals": self._neighbours(evals, corpus, nearest=nearest, jac=jac, evidence=evidence),
        }

    def _cosines(
        self,
        corpus: Corpus,
        ctx: AuditContext,
        also: set[tuple[int, int]],
        found: dict[tuple[int, int], float],
        top_ids: np.ndarray,
        top_vals: np.ndarray,
    ) -> tuple[
        dict[tuple[int, int], float] | None, list[list[tuple[int, float]]] | None, dict[int, Record]
    ]:
        """MiniLM cosines of (eval, text) pairs, each eval's nearest records, and the records read back.

        Without ``fast`` the batches already scored everything with MiniLM. With it the
        static model did, and MiniLM scores only the candidates: static cosine >=
        ``candidate_cosine``, each eval's nearest few, and the pairs in ``also``.
        """
        if not self.use_embedding:
            return None, None, {}
        if not self.config.fast or self.config.static_only:  # the batches' cosines are the decision
            nearest = [
                list(zip(row, map(float, vals)))
                for row, vals in zip(top_ids.tolist(), top_vals.tolist())
            ]
            return found, nearest, {}
        wanted = (
            set(found)
            | also
            | {
                (e, 2 * t + half)
                for e, row in enumerate(top_ids.tolist())
                for t in row
                for half in (0, 1)
            }
        )
        records = corpus.fetch({t // 2 for _, t in wanted})
        embedder = ctx.get_embedder()
        texts = sorted({t for _, t in wanted})
        vecs = embedder.encode(
            [
                records[t // 2].prompt if t % 2 == 0 else response_head(records[t // 2])
                for t in texts
            ]
        )
        row = {t: i for i, t in enumerate(texts)}
        sims = (
            embedder.encode([e.prompt for e in ctx.evals]) @ vecs.T if texts else np.zeros((0, 0))
        )
        cos = {(e, t): float(sims[e, row[t]]) for e, t in wanted}
        per_eval: list[dict[int, float]] = [{} for _ in ctx.evals]
        for (e, t), value in cos.items():
            per_eval[e][t // 2] = max(per_eval[e].get(t // 2, -1.0), value)
        nearest = [
            sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: self.config.neighbours]
            for scores in per_eval
        ]
        return cos, nearest, records

    def _evidence(
        self,
        item: EvalItem,
        record: Record,
        answer: bool,
        gram: int | None,
        jaccard: float | None,
        cosine: float | None,
        shared: list[str] | None,
    ) -> dict[str, Any]:
        cfg = self.config
        paraphrase_cosine, near_cosine = cfg.cosines()
        severity = None
        if gram is not None or (jaccard or 0) >= cfg.exact_jaccard:
            severity = "exact"
        elif (cosine or 0) >= paraphrase_cosine or (jaccard or 0) >= cfg.paraphrase_jaccard:
            severity = "paraphrase"
        elif (cosine or 0) >= near_cosine:
            severity = "near_neighbour"
        normative = shared is not None
        if normative and severity is None:
            severity = "near_neighbour"
        return {
            "eval_id": item.id,
            "eval_kind": item.kind,
            "eval_prompt": item.prompt,
            "field": "answer" if answer else "prompt",
            "ngram": gram,
            "jaccard": None if jaccard is None else round(jaccard, 4),
            "cosine": None if cosine is None else round(cosine, 4),
            "severity": severity,
            "normative_form": normative,
            "shared_words": shared,
        }

    def _neighbours(
        self,
        evals: Sequence[EvalItem],
        corpus: Corpus,
        nearest: list[list[tuple[int, float]]] | None,
        jac: dict[tuple[int, int], float],
        evidence: dict[int, list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """Each eval request's nearest training records (by cosine, else by Jaccard)."""
        k = self.config.neighbours
        severity = {
            (i["eval_id"], corpus.ids[r]): i["severity"]
            for r, items in evidence.items()
            for i in items
        }
        tops = []
        for e in range(len(evals)):
            if nearest is not None:
                tops.append(([t for t, _ in nearest[e][:k]], [s for _, s in nearest[e][:k]]))
            else:
                ranked = sorted(
                    ((s, t // 2) for (ee, t), s in jac.items() if ee == e),
                    key=lambda p: (-p[0], p[1]),
                )[:k]
                tops.append(([t for _, t in ranked], [s for s, _ in ranked]))
        records = corpus.fetch({t for top, _ in tops for t in top})
        out = []
        for item, (top, scores) in zip(evals, tops):
            out.append(
                {
                    "eval_id": item.id,
                    "kind": item.kind,
                    "prompt": item.prompt,
                    "neighbours": [
                        {
                            "id": records[t].id,
                            "prompt": records[t].prompt[:200],
                            "score": round(s, 4),
                            "severity": severity.get((item.id, records[t].id)),
                        }
                        for t, s in zip(top, scores)
                    ],
                }
            )
        return out


def _first_match(key: str) -> Any:
    return lambda d: d["matches"][0].get(key) if d.get("matches") else None


def neighbour_tables(report: CheckReport) -> list[Table]:
    """Every eval request with its three nearest training records, closest first."""
    rows = []
    evals = sorted(
        report.section.get("evals", []),
        key=lambda e: -(e["neighbours"][0]["score"] if e["neighbours"] else 0.0),
    )
    for ev in evals:
        for rank, nb in enumerate(ev["neighbours"][:3]):
            first = rank == 0
            rows.append(
                [
                    ev["eval_id"] if first else "",
                    ev["kind"] if first else "",
                    ev["prompt"] if first else "",
                    nb["id"],
                    nb["prompt"],
                    nb["score"],
                    nb["severity"] or "",
                ]
            )
    normative = sum(any(m["normative_form"] for m in f.details["matches"]) for f in report.findings)
    return [
        Table(
            "Eval requests and their nearest training records",
            ["eval", "kind", "request", "training record", "training prompt", "score", "severity"],
            rows,
            f"{len(report.findings)} training records flagged; {normative} are near neighbours "
            "in normative form (a normative question close to a request for help); closest first",
        )
    ]


def plot_neighbours(report: CheckReport, ax: Any) -> bool:
    evals = [e for e in report.section.get("evals", []) if e["neighbours"]]
    if not evals:
        return False
    cfg = report.section["params"]
    evals.sort(key=lambda e: -e["neighbours"][0]["score"])
    scores = [e["neighbours"][0]["score"] for e in evals]
    colors = ["#cf222e" if e["neighbours"][0]["severity"] else "#8c959f" for e in evals]
    ax.bar(range(len(scores)), scores, color=colors)
    lines = (
        ((cfg["paraphrase_cosine"], "paraphrase"), (cfg["near_cosine"], "near neighbour"))
        if cfg["use_embedding"]
        else ()
    )
    for value, label in lines:
        ax.axhline(value, linestyle="--", linewidth=1, color="#57606a")
        ax.text(len(scores) - 0.5, value + 0.01, label, ha="right", fontsize=8, color="#57606a")
    ax.set_xlabel("eval requests (sorted)")
    ax.set_ylabel("best cosine to training" if cfg["use_embedding"] else "best MinHash Jaccard")
    ax.set_title("Nearest training record per eval request")
    ax.set_ylim(0, 1.05)
    return True


CHECKS = (
    CheckSpec(
        "eval_contamination",
        EvalContaminationCheck,
        gate=True,
        drops=True,
        order=70,
        summary="training records that copy or paraphrase a held-out eval request",
        findings=FindingsTable(
            "Training records close to an eval request",
            (
                "severity",
                Column("eval", _first_match("eval_id")),
                Column("field", _first_match("field")),
                Column("cosine", _first_match("cosine")),
                Column("jaccard", _first_match("jaccard")),
                Column("eval request", _first_match("eval_prompt")),
            ),
            worst=lambda f: float(
                max((m.get("cosine") or m.get("jaccard") or 0) for m in f.details["matches"])
            ),
        ),
        tables=neighbour_tables,
        plot=plot_neighbours,
    ),
)
