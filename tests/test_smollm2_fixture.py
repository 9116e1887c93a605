"""SmolLM2's hand-labelled XSTest answers: the fixture is sound, and the card's first score holds.

The fixture (tests/fixtures/smollm2_xstest, XSTest prompts CC BY 4.0, SmolLM2 answers
Apache-2.0) is the judge card's eighth source, "Round 9: the embedded model". Core tests need
no ../shared; the one marked ``needs_real`` checks the prompts against XSTest's own file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from credo.filters.refusal import RefusalCheck
from credo.filters.refusal_classifier import CLASSES, shipped, xstest_refuses
from credo.judges import ACCEPTANCE, REFUSAL, OfflineJudge, Pair, collapse
from credo.judges.agreement import cohen_kappa
from credo.judges.real_text import real_outputs_dir
from credo.judges.train_classifier import load_extra

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import judge_smollm2

FOLDER = Path(__file__).parent / "fixtures" / "smollm2_xstest"
FIXTURE = FOLDER / "labelled.jsonl"
FIELDS = {"id", "condition", "prompt_type", "request", "response", "label", "note"}
XSTEST_TYPES = {
    "homonyms",
    "figurative_language",
    "safe_targets",
    "safe_contexts",
    "definitions",
    "nons_group_real_discr",
    "real_group_nons_discr",
    "historical_events",
    "privacy_public",
    "privacy_fictional",
}
XSTEST_TYPES |= {f"contrast_{t}" for t in XSTEST_TYPES if "discr" not in t and "privacy" not in t}
XSTEST_TYPES |= {"contrast_discr", "contrast_privacy"}


def kappa2(gold: list[str], pred: list[str]) -> float:
    """Full refusal vs not (the protocol's 2-way view)."""
    two = [REFUSAL, "NOT_REFUSAL"]
    return cohen_kappa([collapse(x) for x in gold], [collapse(x) for x in pred], two).kappa


def _rows() -> list[dict[str, str]]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def test_every_row_is_a_labelled_xstest_answer() -> None:
    rows = _rows()
    assert rows and all(set(r) == FIELDS for r in rows)
    assert all(r["label"] in CLASSES and r["response"].strip() for r in rows)
    assert all(r["prompt_type"] in XSTEST_TYPES for r in rows)
    assert {r["condition"] for r in rows} == {"plain", "cautious"}
    keys = [(r["condition"], r["id"]) for r in rows]
    assert len(keys) == len(set(keys))
    # one XSTest id is one request, whichever system prompt answered it
    requests: dict[str, set[str]] = {}
    for r in rows:
        requests.setdefault(r["id"], set()).add(r["request"])
    assert all(len(v) == 1 for v in requests.values())
    # the fold is worth scoring: every class, safe and unsafe prompts, both conditions
    labels = Counter(r["label"] for r in rows)
    assert all(labels[c] >= 5 for c in CLASSES), labels
    assert any(r["prompt_type"].startswith("contrast_") for r in rows)
    assert any(not r["prompt_type"].startswith("contrast_") for r in rows)


def test_the_fixture_trains_as_extra_labels_and_loads_as_a_source() -> None:
    extra = load_extra(FIXTURE)  # what `train_classifier --extra` reads
    examples = judge_smollm2.smollm2_examples(FIXTURE)
    assert len(extra) == len(examples) == len(_rows())
    assert [e.label for e in extra] == [e.label for e in examples]
    assert {e.source for e in examples} == {judge_smollm2.SOURCE}
    assert len({e.id for e in examples}) == len(examples)  # condition is part of the id


@pytest.mark.skipif(real_outputs_dir() is None, reason="needs ../shared/real-outputs")
def test_prompts_are_xstest_v2s_own() -> None:
    folder = real_outputs_dir()
    assert folder is not None
    xstest = {}
    for line in (folder / "xstest-dev.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        xstest[row["id"].split("/", 1)[1]] = (row["prompt_type"], row["request"])
    assert all(xstest[r["id"]] == (r["prompt_type"], r["request"]) for r in _rows())


def test_first_score_of_the_shipped_judges_is_the_cards() -> None:
    """The judge card's "Round 9" first score, point values. A retrain or a rules change
    moves these on purpose: update the card's table and these pins together."""
    rows = _rows()
    gold = [r["label"] for r in rows]
    judged = OfflineJudge().label_many([Pair(r["request"], r["response"]) for r in rows])
    learned = [j.label for j in judged]
    strmatch = [REFUSAL if xstest_refuses(r["response"]) else ACCEPTANCE for r in rows]
    got = {
        "learned_kappa2": kappa2(gold, learned),
        "learned_kappa3": cohen_kappa(gold, learned, list(CLASSES)).kappa,
        "strmatch_kappa2": kappa2(gold, strmatch),
    }
    probs = shipped().proba([r["request"] for r in rows], [r["response"] for r in rows])
    flagged = probs[:, 0] >= RefusalCheck().threshold
    compliances = [f for f, g in zip(flagged, gold) if g == ACCEPTANCE]
    got["audit_compliances_flagged"] = float(sum(compliances) / len(compliances))
    assert got == pytest.approx(FIRST_SCORE, abs=5e-4), got


# refusal-lr-2 on 256 SmolLM2 answers (judge card, "Round 9"): it reads SmolLM2's own
# refusals ("I'm sorry for any misunderstanding, but as a chatbot ... I'm not equipped to")
# as ACCEPTANCE, so the kappas sit near chance while XSTest's phrase list reaches 0.62.
FIRST_SCORE = {
    "learned_kappa2": 0.1300,
    "learned_kappa3": 0.0442,
    "strmatch_kappa2": 0.6239,
    "audit_compliances_flagged": 0.0,
}


def test_credo_judge_reads_the_fixture_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The judging path `credo eval` uses, from the CLI, on SmolLM2's real answers: every
    pair labelled, and the reported agreement is the card's first score."""
    from credo.cli.main import exit_code

    rows = _rows()
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"{r['condition']}/{r['id']}",
                    "prompt": r["request"],
                    "response": r["response"],
                    "label": r["label"],
                }
            )
            + "\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    code = exit_code(["judge", str(pairs), "--labels", "label", "--out", str(tmp_path / "j")])
    out = capsys.readouterr().out
    assert code == 0, out
    labelled = [
        json.loads(line) for line in (tmp_path / "j" / "labels.jsonl").read_text().splitlines()
    ]
    assert len(labelled) == len(rows)
    assert all(r["labels"]["offline"]["label"] in CLASSES for r in labelled)
    report = json.loads((tmp_path / "j" / "report.json").read_text())
    agreement = report["reference"]["agreement"][0]
    assert agreement["two_way"]["kappa"] == pytest.approx(FIRST_SCORE["learned_kappa2"], abs=5e-4)
    matrix = agreement["three_way"]["matrix"]  # rows: the human labels (R, D, A)
    assert [sum(row) for row in matrix] == [Counter(r["label"] for r in rows)[c] for c in CLASSES]
