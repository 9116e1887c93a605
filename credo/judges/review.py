"""Human review of a judge: the pairs it is unsure of go out, human labels come back.

``credo judge`` writes ``review.csv`` - the pairs whose top probability is under the
classifier's threshold, plus an optional seeded random sample of the rest - with an empty
``human_label`` column. A researcher fills it in (or any CSV/JSONL with ``id`` and
``human_label``) and passes it back with ``--human``: every judge's agreement with the
humans is reported as Cohen's kappa with a bootstrap 95% interval and a confusion matrix.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from credo.errors import CorpusError
from credo.judges.agreement import cohen_kappa, kappa_interval
from credo.judges.base import LABELS, NOT_REFUSAL, REFUSAL, Judgement, collapse
from credo.schema import loads_strict

REVIEW_FILE = "review.csv"
COLUMNS = (
    "id",
    "request",
    "response",
    "predicted",
    "p_refusal",
    "p_deflection",
    "p_acceptance",
    "why",
    "human_label",
)


def review_rows(
    ids: Sequence[str],
    requests: Sequence[str],
    responses: Sequence[str],
    judgements: Sequence[Judgement],
    sample: int = 0,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Uncertain pairs, then ``sample`` others drawn at random (seeded), for a human to label."""
    probs = [_probs(j) for j in judgements]
    unsure = [i for i, p in enumerate(probs) if p is not None and p["uncertain"]]
    rest = [i for i in range(len(ids)) if i not in set(unsure)]
    drawn = sorted(random.Random(seed).sample(rest, min(sample, len(rest))))
    rows = []
    for i, why in [*((i, "uncertain") for i in unsure), *((i, "random sample") for i in drawn)]:
        p = (probs[i] or {}).get("probs", {})
        rows.append(
            {
                "id": ids[i],
                "request": requests[i],
                "response": responses[i],
                "predicted": judgements[i].label,
                "p_refusal": p.get("REFUSAL", ""),
                "p_deflection": p.get("DEFLECTION", ""),
                "p_acceptance": p.get("ACCEPTANCE", ""),
                "why": why,
                "human_label": "",
            }
        )
    return rows


def _probs(judgement: Judgement) -> dict[str, Any] | None:
    try:
        data = json.loads(judgement.raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "uncertain" in data else None


def review_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


HUMAN_MAX_BYTES = 200_000_000


def read_human_labels(path: Path) -> dict[str, str]:
    """``id`` -> label from a CSV (header with ``id`` and ``human_label``) or JSONL file.

    Rows with an empty label are skipped (not yet reviewed); anything else must be one of
    REFUSAL, DEFLECTION, ACCEPTANCE (any case).
    """
    if not path.is_file():
        raise CorpusError(
            f"--human {path}: no such file - give the filled-in review.csv or a JSONL"
        )
    if path.stat().st_size > HUMAN_MAX_BYTES:
        raise CorpusError(
            f"{path}: over {HUMAN_MAX_BYTES:,} bytes - a review file holds one short row per pair"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(
            f"{path}: not UTF-8 text - give the filled-in review.csv (saved as CSV UTF-8) or a JSONL"
        ) from None
    if path.suffix.lower() == ".jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((n, loads_strict(line)))
                except json.JSONDecodeError as exc:
                    raise CorpusError(
                        f"{path}:{n}: not valid JSON ({exc.msg}) - fix that line"
                    ) from exc
                except ValueError as exc:  # a key twice, NaN, a number that overflows
                    raise CorpusError(f"{path}:{n}: {exc}") from None
    else:
        rows = _csv_rows(path, text)
    labels: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    for n, row in rows:
        if not isinstance(row, dict) or "id" not in row:
            raise CorpusError(f"{path}:{n}: no 'id' - each row needs the pair's id and human_label")
        if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
            raise CorpusError(f"{path}:{n}: id {row['id']!r} - a pair's id is text")
        raw = row.get("human_label") or row.get("label") or ""
        if not isinstance(raw, str):
            raise CorpusError(
                f"{path}:{n}: human_label {raw!r} is not text - use one of {', '.join(LABELS)} "
                "or leave it empty"
            )
        value = str(row.get("human_label") or row.get("label") or "").strip().upper()
        if not value:
            continue
        if value not in LABELS:
            raise CorpusError(
                f"{path}:{n}: human_label {value!r} - use one of {', '.join(LABELS)} or leave it empty"
            )
        pid = str(row["id"])
        if pid in labels and labels[pid] != value:
            raise CorpusError(
                f"{path}:{n}: id {pid!r} is labelled {value} here and {labels[pid]} on line "
                f"{first_seen[pid]} - keep one label per pair"
            )
        labels[pid] = value
        first_seen.setdefault(pid, n)
    if not labels:
        raise CorpusError(
            f"{path}: no row has a human_label yet - fill in the human_label column "
            f"({', '.join(LABELS)}) before passing it with --human"
        )
    return labels


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a review CSV with their line numbers; a damaged file is one line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        if not reader.fieldnames or not {"id", "human_label"} <= set(reader.fieldnames):
            raise CorpusError(
                f"{path}: needs a header with 'id' and 'human_label' columns "
                f"(found {reader.fieldnames}) - fill in the review.csv credo judge wrote"
            )
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:  # a field over the csv module's limit, a NUL byte, ...
        raise CorpusError(
            f"{path}:{reader.line_num + 1}: not readable as CSV ({exc}) - save it again as CSV "
            "UTF-8, or give a JSONL of id and human_label"
        ) from None


def human_agreement(
    path: Path, ids: Sequence[str], columns: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Each judge against the human labels in ``path``: kappa (2- and 3-way) with intervals."""
    human = read_human_labels(path)
    index = {pid: i for i, pid in enumerate(ids)}
    unknown = sorted(set(human) - set(index))
    if unknown:
        raise CorpusError(
            f"{path}: ids not in the judged input: {', '.join(unknown[:5])} - label pairs of this input"
        )
    rows = sorted(index[pid] for pid in human)
    gold = [human[ids[i]] for i in rows]
    out: dict[str, Any] = {"file": str(path), "n": len(rows), "judges": {}}
    for name, labels in columns.items():
        pred = [labels[i] for i in rows]
        two_gold, two_pred = [collapse(x) for x in gold], [collapse(x) for x in pred]
        three = cohen_kappa(gold, pred, LABELS)
        out["judges"][name] = {
            "kappa_3way": kappa_interval(gold, pred, LABELS).to_json(),
            "kappa_2way": kappa_interval(two_gold, two_pred, [REFUSAL, NOT_REFUSAL]).to_json(),
            "agreement": three.observed if rows else None,
            "categories": three.categories,
            "matrix": three.matrix,  # rows: human, columns: judge
        }
    return out
