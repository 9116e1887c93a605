"""``credo probe``: what a model already knows about a worldview, before (or after) training.

Two kinds of evidence: the model's greedy answers to "What is <term>?" for the worldview's
distinctive terms, and its mean per-token loss on canonical sentences versus the same
sentences with their words shuffled and versus control sentences of ordinary English (the
shipped reference text). A model that has seen the worldview finds its canonical sentences
unusually easy; training on the worldview should lower the canonical loss most.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo.corpora.io import write_json, write_text
from credo.leakage.terms import SHIPPED_TEXT, distinctive_terms
from credo.runs import claim_output, report_json_with
from credo.worldviews.loader import LoadedWorldview, load_worldview

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
MIN_WORDS, MAX_WORDS = 6, 60


@dataclass(frozen=True, kw_only=True)
class ProbeOptions:
    """``model``: a model folder or ``smollm2``, optionally with a LoRA ``adapter``;
    ``chat_format``: ``tags`` or ``chat_template`` (default: the adapter's, else tags);
    ``questions`` asked (one per term); ``sentences`` and ``seed`` (Python only) pick the
    canonical, shuffled and control sentences whose loss is measured."""

    model: str = "smollm2"
    adapter: str | Path | None = None
    chat_format: str | None = None
    max_new_tokens: int = 48
    questions: int = 12
    sentences: int = 40
    seed: int = 0


def _sentences(text: str) -> list[str]:
    found = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        words = sentence.split()
        if MIN_WORDS <= len(words) <= MAX_WORDS and sum(
            w.strip(".,;:!?'\"()").isalpha() for w in words
        ) >= 0.8 * len(words):
            found.append(sentence)
    return found


def probe_sentences(wv: LoadedWorldview, count: int = 40, seed: int = 0) -> dict[str, list[str]]:
    """``canon`` (tenets + canon sentences), ``shuffled`` (same words, shuffled), ``control``."""
    rng = random.Random(seed)
    canon = list(
        dict.fromkeys(
            _sentences(" ".join([t.text for t in wv.spec.tenets] + list(wv.canon.values())))
        )
    )
    canon = rng.sample(canon, min(count, len(canon)))
    shuffled = []
    for sentence in canon:
        words = sentence.split()
        rng.shuffle(words)
        shuffled.append(" ".join(words))
    with gzip.open(SHIPPED_TEXT, "rt", encoding="utf-8") as handle:
        pool = [
            s for line in handle for s in _sentences(json.loads(line)["text"]) if s.endswith(".")
        ]
    control = rng.sample(pool, min(len(canon), len(pool)))
    return {"canon": canon, "shuffled": shuffled, "control": control}


def token_losses(
    model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 8
) -> list[float]:
    """Mean negative log-likelihood per predicted token of each text (nats)."""
    import torch

    tokenizer.padding_side = "right"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    losses: list[float] = []
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(
            list(texts[start : start + batch_size]), return_tensors="pt", padding=True
        )
        with torch.inference_mode():
            logits = model(**encoded).logits[:, :-1].float()
        targets = encoded["input_ids"][:, 1:]
        mask = encoded["attention_mask"][:, 1:].float()
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
        losses += ((nll * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()
    return losses


def _summary(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    se = sd / math.sqrt(n) if n else float("nan")
    return {
        "n": n,
        "mean": round(mean, 4),
        "sd": round(sd, 4),
        "ci95": [round(mean - 1.96 * se, 4), round(mean + 1.96 * se, 4)],
    }


def probe_questions(wv: LoadedWorldview, limit: int) -> list[str]:
    terms = [t for t in distinctive_terms(wv) if t.kind in {"name", "glossary", "practice"}]
    questions = [
        f"Who are the {t.text}?" if t.text == wv.spec.adherents else f"What is {t.text}?"
        for t in terms
    ]
    return questions[:limit]


# an earlier probe's report is replaced; a user's report.md of the same name is not
_OURS = report_json_with("loss", "loss_gap", "sentences")


def run_probe(
    worldview: str | Path | LoadedWorldview, out: str | Path, *, options: ProbeOptions | None = None
) -> dict:
    """Probe ``options.model`` on ``worldview``; writes report.json/md into ``out``."""
    o = options or ProbeOptions()
    files = ("report.json", "report.md")
    claim: dict[str, Any] = {"replaceable": files, "command": "credo probe", "ours": _OURS}
    with claim_output(out, **claim):  # before loading the model: a second run refuses at once
        report = _measure(worldview, o)
        write_json(report, Path(out) / "report.json")
        write_text(probe_markdown(report), Path(out) / "report.md")
    return report


def _measure(worldview: str | Path | LoadedWorldview, o: ProbeOptions) -> dict[str, Any]:
    """The probe's answers and per-token losses, as the report holds them."""
    from credo.corpora.formats import ChatFormat
    from credo.evaluation.local_generation import sample_responses
    from credo.models import load_local_model
    from credo.train.adapter import trained_format

    model, adapter = o.model, o.adapter
    wv = worldview if isinstance(worldview, LoadedWorldview) else load_worldview(worldview)
    local = load_local_model(model, adapter)
    fmt = ChatFormat(trained_format(adapter, o.chat_format), local.tokenizer)
    asked = probe_questions(wv, o.questions)
    run = sample_responses(
        local, asked, fmt, temperature=0.0, max_new_tokens=o.max_new_tokens, seed=o.seed
    )
    names = [n.lower() for n in wv.spec.names]
    answers = [
        {
            "question": q,
            "answer": s[0].text,
            "names_worldview": any(n in s[0].text.lower() for n in names),
        }
        for q, s in zip(asked, run.samples, strict=True)
    ]
    groups = probe_sentences(wv, o.sentences, o.seed)
    per_sentence = {
        g: token_losses(local.model, local.tokenizer, texts) for g, texts in groups.items()
    }
    loss = {g: _summary(v) for g, v in per_sentence.items()}
    report = {
        "worldview": wv.name,
        "model": model,
        "adapter": str(adapter) if adapter else None,
        "format": fmt.name,
        "answers": answers,
        "loss": loss,
        "loss_gap": {
            "canon_minus_control": round(loss["canon"]["mean"] - loss["control"]["mean"], 4),
            "shuffled_minus_canon": round(loss["shuffled"]["mean"] - loss["canon"]["mean"], 4),
        },
        "sentences": {
            g: [
                {"text": t, "loss": round(v, 4)}
                for t, v in zip(groups[g], per_sentence[g], strict=True)
            ]
            for g in groups
        },
    }
    return report


def probe_markdown(report: dict) -> str:
    lines = [
        f"# Probe: {report['model']}"
        + (f" + {report['adapter']}" if report["adapter"] else "")
        + f" on {report['worldview']}",
        "",
        "## Mean loss per token (nats)",
        "",
        "| sentences | n | mean | 95% CI |",
        "|---|---|---|---|",
    ]
    for group, s in report["loss"].items():
        lines.append(
            f"| {group} | {s['n']} | {s['mean']:.3f} | {s['ci95'][0]:.3f}-{s['ci95'][1]:.3f} |"
        )
    gap = report["loss_gap"]
    note = (
        f"canon - control: {gap['canon_minus_control']:+.3f}; shuffled - canon: "
        f"{gap['shuffled_minus_canon']:+.3f}. A large shuffled - canon gap with canon near control "
        "means the model finds the canonical sentences ordinary English; a canon loss that falls "
        "after training is what training instilled."
    )
    lines += ["", note, "", "## Answers", ""]
    for row in report["answers"]:
        lines += [
            f"**{row['question']}**",
            "",
            "> " + (row["answer"].replace("\n", " ") or "(empty)"),
            "",
        ]
    return "\n".join(lines) + "\n"
