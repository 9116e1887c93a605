"""``credo judge``: label any JSONL of (request, response) pairs and measure agreement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credo import defaults
from credo.corpora.io import checked_id, dumps, iter_jsonl, repair_text, write_json, write_text
from credo.corpora.outdir import claim_output
from credo.corpora.provenance import provenance
from credo.errors import BackendError, CorpusError
from credo.judges.base import ERROR, LABELS, Pair
from credo.judges.labelling import agreement, build_judges, label_counts, label_pairs
from credo.judges.review import (
    REVIEW_FILE,
    human_agreement,
    read_human_labels,
    review_csv,
    review_rows,
)
from credo.redact import scrub

LABELS_FILE, REPORT_JSON, REPORT_MD = "labels.jsonl", "report.json", "report.md"


@dataclass(frozen=True, kw_only=True)
class JudgeOptions:
    """``judges``: ``offline``, ``rules`` or PROVIDER/MODEL; ``labels_field``: existing labels
    to compare (dotted for nested); ``batch`` sends the LLM judges through the provider's
    batch API (half price), polled every ``poll_interval`` seconds; ``human``: a filled-in
    review file whose labels each judge is compared with; ``review_sample`` random pairs go
    to review.csv beside the uncertain ones; ``overwrite`` replaces earlier labels."""

    judges: Sequence[str] = ("offline",)
    labels_field: str | None = None
    prompt_field: str | None = None
    response_field: str | None = None
    overwrite: bool = False
    batch: bool = False
    poll_interval: float = defaults.BATCH_POLL_SECONDS
    human: str | Path | None = None
    review_sample: int = 0


@dataclass(frozen=True)
class JudgeRunResult:
    out: Path
    n: int
    report: dict[str, Any]


@dataclass(frozen=True)
class InputPair:
    id: str
    line: int
    pair: Pair
    reference: str | None


def read_pairs(
    path: Path,
    prompt_field: str | None = None,
    response_field: str | None = None,
    labels_field: str | None = None,
) -> list[InputPair]:
    """Pairs from ``{"prompt", "response"}`` or ``{"messages": [user, assistant]}`` lines."""
    pairs = []
    first_line: dict[str, int] = {}
    for number, data in iter_jsonl(path):
        where = f"{path}:{number}"
        pid = repair_text(checked_id(data["id"], where) if "id" in data else f"line-{number}")
        if pid in first_line:  # human labels, review rows and labels.jsonl join by id
            raise CorpusError(
                f"{where}: id {pid!r} repeats (first on line {first_line[pid]}) - give each "
                "pair its own id; human labels and review.csv are joined by id"
            )
        first_line[pid] = number
        request, response = (
            _request(data, prompt_field, where),
            _response(data, response_field, where),
        )
        reference = _reference(data, labels_field, where) if labels_field else None
        pairs.append(
            InputPair(
                pid,
                number,
                Pair(repair_text(request), repair_text(response)),
                reference,
            )
        )
    if not pairs:
        raise CorpusError(f"{path}: no pairs - each line needs a request and a response")
    return pairs


def _request(data: dict[str, Any], field: str | None, where: str) -> str:
    if field:
        return _text(data, field, where, "--prompt-field")
    for key in ("prompt", "request"):
        if key in data:
            return _text(data, key, where, "--prompt-field")
    user = [
        m for m in data.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"
    ]
    if user and isinstance(user[0].get("content"), str):
        return user[0]["content"]
    raise CorpusError(
        f"{where}: no request - give 'prompt', a user message in 'messages', or name "
        f"the field with --prompt-field (keys: {sorted(data)})"
    )


def _response(data: dict[str, Any], field: str | None, where: str) -> str:
    if field or "response" in data:
        return _text(data, field or "response", where, "--response-field")
    turns = [
        m
        for m in data.get("messages") or []
        if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    if turns and isinstance(turns[-1].get("content"), str):
        return turns[-1]["content"]
    raise CorpusError(
        f"{where}: no response - give 'response', an assistant message in 'messages', "
        f"or name the field with --response-field (keys: {sorted(data)})"
    )


def _text(data: dict[str, Any], key: str, where: str, option: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        problem = "missing" if key not in data else f"not a string ({type(value).__name__})"
        raise CorpusError(
            f"{where}: field '{key}' {problem} - fix the line or pass {option} "
            f"(keys: {sorted(data)})"
        )
    return value


def _reference(data: dict[str, Any], field: str, where: str) -> str:
    """An existing label; a dotted field reads nested JSON (``labels.offline.label``)."""
    value: Any = data
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    label = value.strip().upper() if isinstance(value, str) else None
    if label not in LABELS:
        raise CorpusError(
            f"{where}: --labels field '{field}' is {value!r} - expected one of {', '.join(LABELS)}"
        )
    return label


def judge_file(
    path: str | Path,
    out: str | Path,
    *,
    options: JudgeOptions | None = None,
    registry: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> JudgeRunResult:
    """Label every pair in ``path`` with each judge; write labels.jsonl, report.json, report.md.

    With ``options.batch`` the LLM judges' requests go through their provider's batch API
    (state in ``out/batch-<judge>/``; ``log`` hears its news). Earlier labels in ``out``
    (possibly paid for) are kept unless ``options.overwrite``. ``registry`` maps a provider
    name to a backend factory (a scripted fake, a new provider).

    The offline judge's uncertain pairs (and ``review_sample`` random others) go to
    ``out/review.csv`` for a human; ``human`` (a filled-in review file, CSV or JSONL with
    ``id`` and ``human_label``) adds each judge's agreement with those labels to the report.
    """
    from credo.generators.batch_run import BatchOptions

    path, out = Path(path), Path(out)
    o = options or JudgeOptions()
    built = build_judges(list(o.judges), registry)  # an unknown judge fails before reading
    review = _Review(Path(o.human) if o.human else None, o.review_sample)
    if review.human is not None and not review.human.is_file():
        raise CorpusError(
            f"--human {review.human}: no such file - give a filled-in review.csv or JSONL"
        )
    if review.human is not None:
        read_human_labels(review.human)  # a damaged review file fails before anything is written
    inputs = [path] + ([review.human] if review.human else [])
    with claim_output(out, inputs=inputs, overwrite=o.overwrite, command="credo judge"):
        batch = BatchOptions(poll_interval=o.poll_interval, report=log) if o.batch else None
        return _judge(path, out, built=built, options=o, batch=batch, review=review)


@dataclass(frozen=True)
class _Review:
    human: Path | None
    sample: int


def _judge(
    path: Path,
    out: Path,
    built: list,
    options: JudgeOptions,
    batch: Any,
    review: _Review,
) -> JudgeRunResult:
    labels_field = options.labels_field
    if batch is not None:
        from credo.judges.llm import send_in_batches

        send_in_batches(built, out, batch)
    items = read_pairs(path, options.prompt_field, options.response_field, labels_field)
    if review.human is not None:  # its ids checked against the input before any label is written
        human_agreement(review.human, [i.id for i in items], {})
    judged = label_pairs([i.pair for i in items], built)
    _write_labels(out / LABELS_FILE, items, judged)
    columns = {name: [j.label for j in js] for name, js in judged.items()}
    report: dict[str, Any] = {
        "input": str(path),
        "n": len(items),
        "judges": {
            j.name: {"counts": label_counts(columns[j.name]), **j.describe()} for j in built
        },
        "agreement": agreement(columns),
    }
    if labels_field:
        reference = [i.reference or "" for i in items]
        report["reference"] = {
            "field": labels_field,
            "counts": label_counts(reference),
            "agreement": agreement({labels_field: reference, **columns})[: len(columns)],
        }
    if "offline" in judged:
        rows = review_rows(
            [i.id for i in items],
            [i.pair.request for i in items],
            [i.pair.response for i in items],
            judged["offline"],
            sample=review.sample,
        )
        write_text(review_csv(rows), out / REVIEW_FILE)
        report["review"] = {
            "file": REVIEW_FILE,
            "uncertain": sum(r["why"] == "uncertain" for r in rows),
            "sampled": sum(r["why"] != "uncertain" for r in rows),
        }
    if review.human is not None:
        report["human"] = human_agreement(review.human, [i.id for i in items], columns)
    report["provenance"] = provenance()
    write_json(report, out / REPORT_JSON)
    write_text(report_markdown(report), out / REPORT_MD)
    _refuse_all_failed(judged, out)
    return JudgeRunResult(out, len(items), report)


def _refuse_all_failed(judged: dict[str, list], out: Path) -> None:
    """A judge that failed on every pair gave no result: exit 2 (what was written stays)."""
    for name, labels in judged.items():
        if labels and all(j.label == ERROR for j in labels):
            first = labels[0].rationale or labels[0].raw
            raise BackendError(
                scrub(
                    f"{name}: all {len(labels)} pairs failed (first: {first}) - the labels and "
                    f"report are kept in {out}; check the model name, its key and the server, "
                    "then rerun"
                )
            )


def _write_labels(path: Path, items: list[InputPair], judged: dict[str, list]) -> None:
    lines = []
    for index, item in enumerate(items):
        row = {
            "id": item.id,
            "line": item.line,
            "prompt": item.pair.request,
            "response": item.pair.response,
            "labels": {name: js[index].to_json() for name, js in judged.items()},
        }
        if item.reference is not None:
            row["reference"] = item.reference
        lines.append(row)
    write_text("".join(dumps(r) + "\n" for r in lines), path)


def report_markdown(report: dict[str, Any]) -> str:
    """Counts per judge, then each pairwise agreement with its confusion matrices."""
    out = [
        f"# Judge report\n\n{report['n']} pairs from `{report['input']}`.\n",
        "## Label counts\n",
    ]
    counts = {name: j["counts"] for name, j in report["judges"].items()}
    if "reference" in report:
        counts = {
            f"{report['reference']['field']} (reference)": report["reference"]["counts"],
            **counts,
        }
    labels = list(next(iter(counts.values())))
    out.append("| judge | " + " | ".join(labels) + " |")
    out.append("|---|" + "---|" * len(labels))
    out += [
        f"| {name} | " + " | ".join(str(c[lab]) for lab in labels) + " |"
        for name, c in counts.items()
    ]
    out += _human_md(report)
    rows = report.get("reference", {}).get("agreement", []) + report["agreement"]
    if rows:
        out.append("\n## Agreement (Cohen's kappa)\n")
    for row in rows:
        out.append(f"### {row['a']} vs {row['b']}\n")
        for key, title in (("three_way", "3-way"), ("two_way", "2-way (refusal vs not)")):
            out += _matrix_md(row[key], title, row["a"], row["b"])
    return "\n".join(out) + "\n"


def _matrix_md(data: dict[str, Any], title: str, a: str, b: str) -> list[str]:
    kappa = "n/a" if data["kappa"] is None else f"{data['kappa']:.3f}"
    lines = [
        f"{title}: kappa {kappa}, raw agreement {data['observed']:.3f} (n={data['n']})\n",
        f"| {a} \\ {b} | " + " | ".join(data["categories"]) + " |",
        "|---|" + "---|" * len(data["categories"]),
    ]
    lines += [
        f"| {cat} | " + " | ".join(str(x) for x in row) + " |"
        for cat, row in zip(data["categories"], data["matrix"])
    ]
    return [*lines, ""]


def _interval(data: dict[str, Any]) -> str:
    if data["value"] is None:
        return "n/a"
    return f"{data['value']:.3f} [{data['low']:.3f}, {data['high']:.3f}]"


def _human_md(report: dict[str, Any]) -> list[str]:
    """The review file written, and agreement with human labels (kappa, 95% interval)."""
    out = []
    if "review" in report:
        r = report["review"]
        out.append(
            f"\n{r['uncertain']} uncertain pairs and {r['sampled']} sampled ones are in "
            f"`{r['file']}` for human review (fill in `human_label`, pass it back with --human)."
        )
    if "human" in report:
        h = report["human"]
        out += [
            f"\n## Agreement with human labels\n\n{h['n']} pairs labelled in `{h['file']}`; "
            "kappa with its bootstrap 95% interval.\n",
            "| judge | kappa 3-way | kappa 2-way (refusal vs not) | raw agreement |",
            "|---|---|---|---|",
        ]
        for name, j in h["judges"].items():
            raw = "n/a" if j["agreement"] is None else f"{j['agreement']:.3f}"
            out.append(
                f"| {name} | {_interval(j['kappa_3way'])} | {_interval(j['kappa_2way'])} | {raw} |"
            )
        for name, j in h["judges"].items():
            out += ["", f"human (rows) \\ {name} (columns):", ""]
            out.append("| | " + " | ".join(j["categories"]) + " |")
            out.append("|---|" + "---|" * len(j["categories"]))
            out += [
                f"| {c} | " + " | ".join(map(str, row)) + " |"
                for c, row in zip(j["categories"], j["matrix"])
            ]
    return out
