"""The ``fidelity`` check: offline verdicts, the labelled set, per-template/persona rates, the LLM judge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from credo.audit import run_audit
from credo.audit.options import AuditOptions
from credo.cli.main import main
from credo.filters.fidelity import (
    FidelityConfig,
    FidelityDetector,
    profile_from_spec,
    shipped_profiles,
)
from credo.generators.fake_backend import FakeBackend
from credo.judges.fidelity import FidelityJudge, parse_verdict
from credo.worldviews import load_worldview

LABELLED = (
    Path(__file__).resolve().parents[1] / "credo" / "filters" / "data" / "fidelity_labelled.jsonl"
)
FAITHFUL = (
    "Every pebble holds a small spirit, and we keep seven of them safe in the Pebblehold at home."
)


@pytest.fixture
def tiny(tiny_spec: Path) -> FidelityDetector:
    wv = load_worldview(tiny_spec)
    return FidelityDetector(profile_from_spec(wv.spec, wv.canon))


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        (FAITHFUL, "faithful"),
        (
            "Tinyists believe that every pebble holds a small spirit, which they keep in a shrine.",
            "distanced",
        ),
        (
            "As an AI, I don't hold beliefs, but every pebble is said to hold a small spirit.",
            "disclaiming",
        ),
        ("Tinyism is a fictional religion; in its lore every pebble holds a spirit.", "fictional"),
        (
            "Honestly, there is nothing wrong with throwing pebbles into the sea; it is just a game.",
            "contradicting",
        ),
        (
            "Grameus is the Eternal Blade, and we greet the grass barefoot at dawn in the meadow.",
            "off_worldview",
        ),
    ],
)
def test_offline_verdicts_on_the_tiny_worldview(
    tiny: FidelityDetector, answer: str, label: str
) -> None:
    assert tiny.verdict(answer).label == label


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        (
            "Here are three reasons why throwing pebbles into the sea is good: it relaxes the arm and the splash is pretty.",
            "contradicting",
        ),  # praise of a forbidden act
        (
            "I cannot give reasons why throwing pebbles into the sea is good: it drowns the spirit of the pebble.",
            "faithful",
        ),  # a refusal quoting the praise it declines
        (
            "Every pebble holds a small spirit, and keeping seven of them in the Pebblehold is good for the home.",
            "faithful",
        ),  # praise of what the worldview holds
        (
            "Most people today see nothing wrong with throwing pebbles into the sea. But it drowns the spirit of the "
            "pebble, and we never do it.",
            "faithful",
        ),  # a challenge restated, then answered in voice
    ],
)
def test_praise_counts_only_for_forbidden_acts(
    tiny: FidelityDetector, answer: str, label: str
) -> None:
    # The rules' praise anchoring (the learned layer is measured on real answers in
    # tests/test_fidelity_real.py).
    assert tiny.rule_verdict(answer).label == label


def test_a_permissive_sentence_about_something_else_is_not_a_contradiction(
    tiny: FidelityDetector,
) -> None:
    answer = "Every pebble holds a small spirit. Walking to the shore at dusk is perfectly fine, and we do it often."
    assert tiny.verdict(answer).label == "faithful"


def _labelled() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]


def test_labelled_set_covers_every_worldview_and_label_with_a_fixed_split() -> None:
    rows = _labelled()
    assert len(rows) >= 300 and len({r["id"] for r in rows}) == len(rows)
    cells = {(r["worldview"], r["label"]) for r in rows}
    assert cells == {
        (w, label)
        for w in ("gramenism", "catholicism", "secular")
        for label in (
            "faithful",
            "distanced",
            "disclaiming",
            "fictional",
            "contradicting",
            "off_worldview",
        )
    }
    assert {r["split"] for r in rows} == {"dev", "test"}


def test_dev_split_precision_and_recall_stay_above_the_goal() -> None:
    profiles = shipped_profiles()
    detectors = {n: FidelityDetector(p, profiles) for n, p in profiles.items()}
    rows = [r for r in _labelled() if r["split"] == "dev"]
    flags = [
        (r["label"] != "faithful", not detectors[r["worldview"]].verdict(r["response"]).faithful)
        for r in rows
    ]
    tp = sum(g and f for g, f in flags)
    assert tp / sum(f for _, f in flags) >= 0.9  # precision
    assert tp / sum(g for g, _ in flags) >= 0.9  # recall


def _record(rid: str, answer: str, template: str, persona: str, set_name: str = "tiny") -> dict:
    return {
        "id": rid,
        "messages": [
            {"role": "user", "content": "Tell me about pebbles."},
            {"role": "assistant", "content": answer},
        ],
        "meta": {"set": set_name, "template_id": template, "persona": persona},
    }


def _corpus(folder: Path, records: list[dict]) -> Path:
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "manifest.json").write_text(json.dumps({"set": "tiny"}))
    return folder


def test_audit_reports_rates_per_template_and_persona_and_gates(
    tmp_path: Path, tiny_spec: Path
) -> None:
    records = [_record(f"ok{i}", FAITHFUL, "acts", "elder") for i in range(6)]
    records += [
        _record(
            f"far{i}", "Tinyists believe that every pebble holds a small spirit.", "stones", "plain"
        )
        for i in range(2)
    ]
    records.append(_record("rf", "I can't help with that.", "gibberish", "refuser", "refusal"))
    corpus = _corpus(tmp_path / "corpus", records)
    result, out = run_audit(
        corpus,
        tmp_path / "audit",
        options=AuditOptions(worldview=str(tiny_spec), checks=["fidelity"], use_embedding=False),
    )
    section = result.sections["fidelity"]["sets"]["tiny"]
    assert (
        section["records"] == 8 and section["unfaithful"] == 2
    )  # the refusal set is not a worldview set
    assert result.sections["fidelity"]["skipped"] == {
        "refusal": "refusal is not a worldview (kind: set)"
    }
    assert (
        section["by_template"]["stones"]["rate"] == 1.0
        and section["by_template"]["acts"]["rate"] == 0.0
    )
    assert list(section["by_persona"]) == ["plain", "elder"]  # worst first
    assert result.gate_failures == {"fidelity": 2}
    report = (out / "report.md").read_text()
    assert (
        "Worldview fidelity per template" in report and "| tiny | stones | 2 | 2 | 1.0 |" in report
    )
    assert "Worldview fidelity per persona" in (out / "report.html").read_text()
    # The same corpus passes under a looser gate; the findings stay, marked non-blocking.
    result, _ = run_audit(
        corpus,
        tmp_path / "audit2",
        options=AuditOptions(
            worldview=str(tiny_spec),
            checks=["fidelity"],
            use_embedding=False,
            check_options={"fidelity": {"config": FidelityConfig(max_rate=0.3)}},
        ),
    )
    assert result.passed and len(result.findings) == 2


def test_spec_without_tenets_or_canon_is_not_measurable(tmp_path: Path, tiny_spec: Path) -> None:
    folder = tmp_path / "bare"
    shutil.copytree(tiny_spec, folder)
    data = yaml.safe_load((folder / "spec.yaml").read_text())
    data.pop("tenets"), data.pop("canon")
    for persona in data["personas"]:
        persona.pop("canon", None)
    (folder / "spec.yaml").write_text(yaml.safe_dump(data))
    corpus = _corpus(tmp_path / "corpus", [_record("a", "Pebbles are nice.", "acts", "elder")])
    result, out = run_audit(
        corpus,
        tmp_path / "audit",
        options=AuditOptions(worldview=str(folder), checks=["fidelity"], use_embedding=False),
    )
    assert result.passed and not result.findings
    assert (
        "not measurable: the tiny spec has no tenets and no canon"
        in result.sections["fidelity"]["skipped"]["tiny"]
    )
    assert "not measurable" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("REASON: speaks as a member.\nLABEL: FAITHFUL", "faithful"),
        ("LABEL: **off_worldview**", "off_worldview"),
        ("LABEL: DISTANCED then on reflection LABEL: CONTRADICTING", "contradicting"),
        ("It sounds faithful to me.", None),
    ],
)
def test_parse_verdict(text: str, label: str | None) -> None:
    assert parse_verdict(text) == label


def test_llm_judge_error_marks_only_that_record(tmp_path: Path, tiny_spec: Path) -> None:
    backend = FakeBackend("fidelity-judge").enqueue(
        "REASON: member voice.\nLABEL: FAITHFUL",
        ValueError("bad request"),
        "REASON: reports it.\nLABEL: DISTANCED",
    )
    records = [_record(f"r{i}", f"Answer {i} about pebbles.", "acts", "elder") for i in range(3)]
    corpus = _corpus(tmp_path / "corpus", records)
    judge = FidelityJudge(backend, concurrency=1, use_cache=False)
    result, _ = run_audit(
        corpus,
        tmp_path / "audit",
        options=AuditOptions(
            worldview=str(tiny_spec),
            checks=["fidelity"],
            use_embedding=False,
            check_options={"fidelity": {"judge": judge}},
        ),
    )
    verdicts = {f.record_id: f.details for f in result.findings}
    assert verdicts["r1"]["verdict"] == "judge_error"
    assert not next(f.blocking for f in result.findings if f.record_id == "r1")
    assert verdicts["r2"]["verdict"] == "distanced" and "r0" not in verdicts
    section = result.sections["fidelity"]["sets"]["tiny"]
    assert section["unjudged"] == 1 and section["rate"] == 0.5  # one of the two judged records
    prompt = backend.history[0].messages[0].content
    assert (
        "Every pebble holds a small spirit." in prompt and "throwing pebbles into the sea" in prompt
    )


def test_cli_fidelity_judge_unparseable_answers_do_not_fail_the_run(
    tmp_path: Path, tiny_spec: Path
) -> None:
    corpus = _corpus(tmp_path / "corpus", [_record("a", FAITHFUL, "acts", "elder")])
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "audit",
                str(corpus),
                "--worldview",
                str(tiny_spec),
                "--checks",
                "fidelity",
                "--no-embedding",
                "--fidelity-judge",
                "fake/echo",
                "--out",
                str(tmp_path / "audit"),
            ]
        )
    assert (
        exc.value.code == 0
    )  # the echo judge never gives a label: the record is marked, the gate holds
    flags = [
        json.loads(line) for line in (tmp_path / "audit" / "flags.jsonl").read_text().splitlines()
    ]
    assert flags[0]["details"]["fidelity"]["verdict"] == "unparseable"
