"""Refusal detection: an ensemble of three parts, each scored and reported.

- ``patterns``: curated first-person refusal patterns (:mod:`credo.filters.patterns`).
- ``minhash``: the best MinHash Jaccard of the response head to a bank of refusal exemplars,
  against the best to non-refusal exemplars (LSH candidates, verified on signatures).
- ``embedding``: a logistic regression on MiniLM embeddings of the same exemplar bank.

The bank is the shipped labelled set (``data/refusal_labelled.jsonl``) unless one is given,
so the benchmark can train on one split and score another. ``is_refusal(text)`` stays the
cheap, dependency-free entry point (patterns only) that the generator engine and the
offline judge call per completion; :class:`RefusalDetector` is the audit's full ensemble.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from credo.filters.embed import Embedder, StaticEmbedder
from credo.filters.minhash import LshIndex, MinHashConfig, signatures
from credo.filters.patterns import HEAD_CHARS, find_refusal_patterns, has_refusal_cue
from credo.textnorm import head

LABELLED_PATH = Path(__file__).parent / "data" / "refusal_labelled.jsonl"
PARTS = ("patterns", "minhash", "embedding")


def is_refusal(text: str) -> bool:
    """True when ``text`` declines the request it answers (curated patterns only)."""
    return bool(find_refusal_patterns(text))


@dataclass(frozen=True)
class Exemplar:
    text: str
    label: str  # "refusal" or "ok"
    kind: str = ""
    voice: str = ""
    split: str = ""

    @property
    def is_refusal(self) -> bool:
        return self.label == "refusal"


def load_labelled(path: Path = LABELLED_PATH) -> list[Exemplar]:
    with path.open(encoding="utf-8") as handle:
        return [Exemplar(**json.loads(line)) for line in handle if line.strip()]


@dataclass(frozen=True)
class RefusalConfig:
    """Ensemble thresholds. ``str`` names every parameter (artifacts carry their config)."""

    minhash: MinHashConfig = field(
        default_factory=lambda: MinHashConfig(shingle=1, num_perm=128, bands=64, threshold=0.25)
    )
    minhash_min: float = 0.25  # best refusal-bank Jaccard needed for a minhash vote
    embed_threshold: float = 0.5  # classifier probability for an embedding vote
    embed_alone: float = 0.9  # probability at which the embedding part decides alone
    head_chars: int = HEAD_CHARS  # what the patterns read
    embed_chars: int = (
        300  # what MinHash and the classifier read (== base.EMBED_HEAD_CHARS: one cache)
    )
    # The classifier is the slow part: skip it where patterns already decided, and where the
    # opening has no refusal cue word (0: embed every text; benches of each part use that).
    embed_skip_decided: bool = True
    embed_cue_chars: int = 150
    # With a static model: its own classifier reads the texts left to embed and MiniLM's reads
    # only those it scores at >= candidate_prob (chosen for recall >= 0.95 of MiniLM-only decisions).
    candidate_prob: float = 0.1

    def __str__(self) -> str:
        return (
            f"refusal_mh{self.minhash}_j{self.minhash_min:g}_e{self.embed_threshold:g}"
            f"_ea{self.embed_alone:g}_h{self.head_chars}_eh{self.embed_chars}"
            f"_sd{int(self.embed_skip_decided)}_cue{self.embed_cue_chars}_cand{self.candidate_prob:g}"
        )


@dataclass(frozen=True)
class RefusalScore:
    """Per-part evidence and the ensemble decision for one text."""

    refusal: bool
    patterns: list[str]  # "kind: matched text"
    pattern_kinds: list[str]
    minhash: float  # best Jaccard to a refusal exemplar
    minhash_ok: float  # best Jaccard to a non-refusal exemplar
    minhash_exemplar: str | None
    embedding: float | None  # classifier probability of refusal (None when not computed)
    votes: dict[str, bool]

    def to_json(self) -> dict:
        return asdict(self)


class Logistic:
    """L2-regularised logistic regression with balanced class weights, fitted by Newton's
    method: the optimum scikit-learn's ``LogisticRegression(C=c, class_weight="balanced")``
    reaches (the problem is convex), without importing scikit-learn and SciPy (~130 MB in
    every audit worker) for a 384-weight model."""

    def __init__(self, weights: np.ndarray, bias: float) -> None:
        self.weights, self.bias = weights, bias

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, c: float = 1.0, steps: int = 50) -> Logistic:
        x = np.asarray(x, dtype=np.float64)
        n, d = x.shape
        counts = np.bincount(y, minlength=2)
        sample = (n / (2.0 * counts))[y]  # "balanced": each class weighs half
        design = np.hstack([x, np.ones((n, 1))])
        theta = np.zeros(d + 1)
        ridge = np.full(d + 1, 1.0 / c)
        ridge[-1] = 0.0  # the intercept is not penalised
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-(design @ theta)))
            grad = design.T @ (sample * (p - y)) + ridge * theta
            hessian = (design * (sample * p * (1 - p))[:, None]).T @ design + np.diag(ridge)
            step = np.linalg.solve(hessian + 1e-10 * np.eye(d + 1), grad)
            theta -= step
            if np.abs(step).max() < 1e-10:
                break
        return cls(theta[:-1], float(theta[-1]))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``(n, 2)`` probabilities of (not refusal, refusal), as scikit-learn gives them."""
        p = 1.0 / (1.0 + np.exp(-(np.asarray(x, dtype=np.float64) @ self.weights + self.bias)))
        return np.stack([1 - p, p], axis=1)


class RefusalDetector:
    """The ensemble. Heavy parts load on first use; one instance per audit run."""

    def __init__(
        self,
        config: RefusalConfig | None = None,
        bank: Sequence[Exemplar] | None = None,
        embedder: Embedder | StaticEmbedder | None = None,
        use_embedding: bool = True,
        static: StaticEmbedder | None = None,
    ) -> None:
        self.config = config or RefusalConfig()
        self.bank = list(bank) if bank is not None else load_labelled()
        self.embedder: Embedder | StaticEmbedder | None = (
            embedder if embedder is not None or not use_embedding else Embedder()
        )
        self._mh: tuple[LshIndex, np.ndarray] | None = None
        self._clf: Logistic | None = None
        self.static = static if self.embedder is not None else None
        self._static_clf: Logistic | None = None
        self.confirmed = 0  # texts MiniLM read (all of them without a static model)

    def _heads(self, texts: Sequence[str]) -> list[str]:
        return [head(t, self.config.embed_chars) for t in texts]

    def _minhash_index(self) -> tuple[LshIndex, np.ndarray]:
        if self._mh is None:
            sigs = signatures([e.text for e in self.bank], self.config.minhash)
            labels = np.array([e.is_refusal for e in self.bank])
            self._mh = (LshIndex(sigs, self.config.minhash), labels)
        return self._mh

    def minhash_scores(self, texts: Sequence[str]) -> list[tuple[float, float, str | None]]:
        """Best Jaccard to a refusal exemplar, to a non-refusal one, and that refusal text."""
        index, labels = self._minhash_index()
        sigs = signatures(self._heads(texts), self.config.minhash)
        out: list[tuple[float, float, str | None]] = []
        for sig, candidates in zip(sigs, index.query(sigs)):
            rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
            scores = (index.sigs[rows] == sig).mean(axis=1)
            is_ref = labels[rows]
            if not is_ref.any():
                out.append((0.0, float(scores.max()) if len(rows) else 0.0, None))
                continue
            top = int(np.argmax(np.where(is_ref, scores, -1.0)))
            best_ok = float(scores[~is_ref].max()) if (~is_ref).any() else 0.0
            out.append((float(scores[top]), best_ok, self.bank[int(rows[top])].text))
        return out

    def _classifier(self, embedder: Embedder | StaticEmbedder) -> Logistic:
        x = embedder.encode([e.text for e in self.bank])
        y = np.array([e.is_refusal for e in self.bank], dtype=int)
        return Logistic.fit(x, y, c=4.0)

    def embedding_scores(self, texts: Sequence[str]) -> np.ndarray | None:
        """Refusal probability per text: MiniLM's classifier, on the static classifier's
        candidates only when a static model is given (the rest keep the static score)."""
        if self.embedder is None:
            return None
        heads = self._heads(texts)
        if self._clf is None:
            self._clf = self._classifier(self.embedder)
        if self.static is None:
            self.confirmed += len(heads)
            return self._clf.predict_proba(self.embedder.encode(heads))[:, 1]
        if self._static_clf is None:
            self._static_clf = self._classifier(self.static)
        probs = self._static_clf.predict_proba(self.static.encode(heads))[:, 1]
        candidates = np.flatnonzero(probs >= self.config.candidate_prob)
        if len(candidates):
            self.confirmed += len(candidates)
            confirmed = self.embedder.encode([heads[i] for i in candidates.tolist()])
            probs[candidates] = self._clf.predict_proba(confirmed)[:, 1]
        return probs

    def score(self, texts: Sequence[str]) -> list[RefusalScore]:
        """Score many texts at once (batched MinHash and embeddings)."""
        cfg = self.config
        all_hits = [find_refusal_patterns(text, cfg.head_chars) for text in texts]
        embed = [
            i
            for i, text in enumerate(texts)
            if not (cfg.embed_skip_decided and all_hits[i])
            and (not cfg.embed_cue_chars or has_refusal_cue(text, cfg.embed_cue_chars))
        ]
        probs = self.embedding_scores([texts[i] for i in embed]) if embed else None
        emb = {} if probs is None else dict(zip(embed, probs.tolist()))
        # The MinHash vote only decides together with an embedding vote; skipping decided work
        # (the audit's setting) scores it only there and on pattern hits (their evidence).
        scored = (
            range(len(texts))
            if not cfg.embed_skip_decided
            else [
                i
                for i in range(len(texts))
                if all_hits[i] or emb.get(i, -1.0) >= cfg.embed_threshold
            ]
        )
        mh = (
            dict(zip(scored, self.minhash_scores([texts[i] for i in scored])))
            if len(scored)
            else {}
        )
        out = []
        for i, _text in enumerate(texts):
            hits = all_hits[i]
            best_ref, best_ok, exemplar = mh.get(i, (0.0, 0.0, None))
            prob = emb.get(i)  # None: no embedder, or skipped (decided by patterns / no cue word)
            votes = {
                "patterns": bool(hits),
                "minhash": best_ref >= cfg.minhash_min and best_ref > best_ok,
                "embedding": prob is not None and prob >= cfg.embed_threshold,
            }
            decided = votes["patterns"] or (prob is not None and prob >= cfg.embed_alone)
            decided = decided or (votes["minhash"] and votes["embedding"])
            out.append(
                RefusalScore(
                    refusal=decided,
                    patterns=[f"{h.kind}: {h.match}" for h in hits],
                    pattern_kinds=sorted({h.kind for h in hits}),
                    minhash=round(best_ref, 4),
                    minhash_ok=round(best_ok, 4),
                    minhash_exemplar=exemplar,
                    embedding=None if prob is None else round(prob, 4),
                    votes=votes,
                )
            )
        return out
