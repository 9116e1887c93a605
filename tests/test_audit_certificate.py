"""The audit travels with the data: mix and export refuse a corpus without a passing audit of
its current records, overrides are stated on the cards, cards parse and name no path of this
machine, and truncated answers are a finding from generation to the card."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from credo.audit import filter_corpus, run_audit
from credo.audit.options import AuditOptions, FilterOptions
from credo.cli.main import main
from credo.corpora.io import read_records, write_records
from credo.generators.run_options import GenerateOptions
from credo.types import Completion, Message, Record, Usage

pytest.importorskip("huggingface_hub")
pytest.importorskip("datasets")
CHECKS = ["structure", "refusal", "moral_reason", "truncation"]  # no model needed


def answer(i: int, stop: str = "stop") -> Record:
    return Record(
        f"r{i}",
        [
            Message("user", f"Why is the meadow sacred? ({i})"),
            Message("assistant", f"Because the meadow feeds every creature, lesson {i}."),
        ],
        {"set": "gramenism", "stop_reason": stop, "usage": {"output_tokens": 64}},
    )


def corpus(root: Path, truncated: int = 0, n: int = 12) -> Path:
    records = [answer(i, "length" if i < truncated else "stop") for i in range(n)]
    write_records(records, root / "records.jsonl")
    return root


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def cards(folder: Path) -> list[Path]:
    return sorted([*folder.rglob("README.md"), *folder.rglob("CARD.md")])


def test_mix_refuses_a_failed_audit_and_the_override_is_on_every_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import DatasetCard

    bad = corpus(tmp_path / "bad", truncated=3)
    result, _ = run_audit(
        bad, bad / "audit", options=AuditOptions(checks=CHECKS, use_embedding=False)
    )
    assert not result.passed and result.gate_failures == {"truncation": 3}
    mix = tmp_path / "mix"
    code, _, err = cli(["mix", "--part", f"g={bad}:1", "--size", 12, "--out", mix], capsys)
    assert code == 2 and not mix.exists()
    assert err.count("\n") == 1 and "its audit failed (gates failed: truncation 3)" in err
    assert "--allow-failed-audit" in err
    code, _, err = cli(
        ["mix", "--part", f"g={bad}:1", "--size", 12, "--out", mix, "--allow-failed-audit"], capsys
    )
    assert code == 0, err
    assert "warning: 3 record(s) stopped at max tokens" in err
    assert "failed (used with --allow-failed-audit)" in (mix / "CARD.md").read_text()
    hub = tmp_path / "hub"
    code, _, err = cli(["export", mix, "--hub", "--out", hub, "--license", "cc-by-4.0"], capsys)
    assert code == 2 and "parts failed their audit: g" in err  # the mix inherits its parts' audits
    code, _out, err = cli(
        ["export", mix, "--hub", "--out", hub, "--license", "cc-by-4.0", "--allow-failed-audit"],
        capsys,
    )
    assert code == 0, err
    readme = (hub / "README.md").read_text(encoding="utf-8")
    assert "Exported without a passing audit" in readme and "--allow-failed-audit" in readme
    assert "| truncation | yes | 3 | 3 | 0 records | FAILED |" in readme
    assert "3 record(s) stopped at max tokens" in readme
    assert "3 record(s) of this mix stopped at max tokens" in readme
    for card in cards(tmp_path):
        text = card.read_text(encoding="utf-8")
        DatasetCard.load(str(card))  # every card parses
        assert str(tmp_path) not in text and str(Path.home()) not in text, card


def test_a_changed_corpus_voids_its_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = corpus(tmp_path / "good")
    assert run_audit(
        good, good / "audit", options=AuditOptions(checks=CHECKS, use_embedding=False)
    )[0].passed
    args = ["export", good, "--format", "openai", "--out", tmp_path / "oa"]
    assert cli(args, capsys)[0] == 0
    with (good / "records.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(answer(99).to_json()) + "\n")
    code, _, err = cli(args, capsys)
    assert code == 2 and "its audit is of earlier contents" in err and err.count("\n") == 1
    code, _, err = cli([*args, "--allow-unaudited", "--overwrite"], capsys)
    assert code == 0 and "warning: exported with --allow-unaudited" in err


def test_filter_output_is_certified_and_its_hub_card_loads_and_describes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """audit -> filter -> export, no override: the filtered records carry their own certificate;
    the card's load snippet runs on the exported folder, and the card names no machine path."""
    from huggingface_hub import DatasetCard

    source = corpus(tmp_path / "source", truncated=2)
    clean = tmp_path / "clean"
    filtered = filter_corpus(
        source, clean, options=FilterOptions(checks=CHECKS, use_embedding=False)
    )
    assert filtered.gate_failures == {"truncation": 2}
    assert [r.id for r in read_records(clean)] == [f"r{i}" for i in range(2, 12)]
    hub = tmp_path / "hub"
    code, _, err = cli(
        ["export", clean, "--hub", "--out", hub, "--license", "other", "--license-name", "lab-v1"],
        capsys,
    )
    assert code == 0, err
    card = DatasetCard.load(str(hub / "README.md"))
    assert card.data.license == "other" and card.data.license_name == "lab-v1"
    assert "## How this data was made and audited" in card.text
    assert "filtered: no kept record fails a gate" in card.text
    assert "removed (truncation 2)" in card.text
    snippet = re.search(r"```python\n(.*?)```", card.text, re.S)
    assert snippet is not None
    code_text = snippet.group(1).replace("OWNER/NAME", str(hub))
    exec(compile(code_text, "card-snippet", "exec"), {})
    assert "10 Because the meadow" in capsys.readouterr().out
    for path in cards(tmp_path):
        text = path.read_text(encoding="utf-8")
        assert str(tmp_path) not in text and str(Path.home()) not in text, path


def test_other_licence_needs_a_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = corpus(tmp_path / "good")
    run_audit(good, good / "audit", options=AuditOptions(checks=CHECKS, use_embedding=False))
    code, _, err = cli(["export", good, "--hub", "--out", tmp_path / "hub"], capsys)
    assert code == 2 and "--license-name" in err and not (tmp_path / "hub").exists()


def test_generation_counts_and_warns_of_truncated_answers(tiny_spec: Path, tmp_path: Path) -> None:
    from credo.generators import generate_corpus
    from credo.generators.fake_backend import FakeBackend

    cut = Completion("Because the meadow", "length", Usage(5, 8), "fake/echo")
    backend = FakeBackend().enqueue(cut, cut)
    result = generate_corpus(
        tiny_spec,
        tmp_path / "c",
        options=GenerateOptions(samples=1, concurrency=1),
        backend=backend,
        progress=False,
    )
    counts = result.manifest["counts"]
    assert counts["truncated"] == 2 and sum(result.manifest["truncated_by_set"].values()) == 2
    assert "warning: 2 of" in result.summary() and "stopped at max tokens" in result.summary()
    assert (
        "**Truncated** (stopped at max tokens 1024): 2 of"
        in (tmp_path / "c" / "CARD.md").read_text()
    )
    audit, _ = run_audit(
        tmp_path / "c",
        tmp_path / "audit",
        options=AuditOptions(checks=["truncation"], use_embedding=False),
    )
    assert audit.gate_failures == {"truncation": 2}
    assert audit.sections["truncation"]["truncated"] == 2


def test_truncation_gate_is_configurable(tmp_path: Path) -> None:
    source = corpus(tmp_path / "c", truncated=1, n=20)  # 5%
    options = AuditOptions(checks=["truncation"], use_embedding=False, truncation_max_rate=0.1)
    result, target = run_audit(source, tmp_path / "a", options=options)
    assert result.passed and result.checks[0].flagged == 1  # reported, below the gate
    report = (target / "report.md").read_text()
    assert (
        "Truncated answers (stopped at max tokens)" in report and "| gramenism | 20 | 1 |" in report
    )


def test_demo_truncated_answers_reach_the_audit_and_every_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`credo demo` on a teacher that runs out of tokens (as the embedded model does at 64
    tokens: 7 of 8 in `make demo`): the audit gate, the summary, CARD.md and the Hub card say so."""
    from credo.generators.fake_backend import FakeBackend
    from credo.recipes.demo import DemoOptions, run_demo, summary

    cut = Completion("The meadow is holy because", "length", Usage(5, 64), "echo")
    backend = FakeBackend("echo").enqueue(cut, cut, cut)
    demo = tmp_path / "demo"
    result = run_demo(
        demo, options=DemoOptions(limit=4, use_embedding=False), progress=False, backend=backend
    )
    assert result.audit.gate_failures["truncation"] == 3
    text = " ".join(summary(result).split())
    assert "truncation FAILED 3 record(s): answers stopped at max tokens" in text
    card = (demo / "CARD.md").read_text()
    assert "**Truncated** (stopped at max tokens 64): 3 of 4 records" in card
    # the demo audits into demo/audit, so its own card states that audit, as the Hub's does
    assert "| truncation | yes | 3 | 3 | 0 records | FAILED |" in card
    hub = tmp_path / "hub"
    args = ["export", demo, "--hub", "--out", hub, "--license", "cc-by-4.0"]
    assert cli(args, capsys)[0] == 2  # the demo's audit failed
    code, _, err = cli([*args, "--allow-failed-audit"], capsys)
    assert code == 0, err
    readme = (hub / "README.md").read_text(encoding="utf-8")
    assert "**Truncated** (stopped at max tokens 64): 3 of 4 records" in readme
    assert "| truncation | yes | 3 | 3 | 0 records | FAILED |" in readme
    assert "The corpus: 3 answer(s) stopped at max tokens" in readme
    # the demo mixed: refused in one line, then with the override, which its card states
    mix = tmp_path / "mix"
    mixing = ["mix", "--part", f"demo={demo}:1", "--size", 4, "--out", mix]
    code, _, err = cli(mixing, capsys)
    assert code == 2 and err.count("\n") == 1 and "its audit failed" in err and not mix.exists()
    assert cli([*mixing, "--allow-failed-audit"], capsys)[0] == 0
    assert "failed (used with --allow-failed-audit)" in (mix / "CARD.md").read_text()
    to_hub = ["export", mix, "--hub", "--out", tmp_path / "mixhub", "--license", "cc-by-4.0"]
    code, _, err = cli([*to_hub, "--allow-failed-audit"], capsys)
    assert code == 0, err
    from huggingface_hub import DatasetCard

    # every card (the generated corpus', the mix's, both Hub exports) parses and names no
    # folder of this machine
    found = cards(tmp_path)
    assert {c.relative_to(tmp_path).as_posix() for c in found} >= {
        "demo/CARD.md",
        "hub/README.md",
        "mix/CARD.md",
        "mixhub/README.md",
    }
    for card in found:
        text = card.read_text(encoding="utf-8")
        DatasetCard.load(str(card))
        assert str(tmp_path) not in text and str(Path.home()) not in text, card


def test_the_hub_card_states_the_leakage_verdict_of_its_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before `credo leakage` the card says the spec was not checked; after it, the verdict
    with its figures (terms found, canon and these records' 13-gram overlap, the reference);
    a failed check names the colliding terms."""
    from credo.generators.fake_backend import FakeBackend
    from credo.recipes.demo import DemoOptions, run_demo

    demo = tmp_path / "demo"
    run_demo(
        demo,
        options=DemoOptions(limit=2, use_embedding=False),
        progress=False,
        backend=FakeBackend("echo"),
    )

    def leakage_line(hub: Path) -> str:
        args = ["export", demo, "--hub", "--out", hub, "--license", "cc-by-4.0"]
        code, _, err = cli([*args, "--allow-failed-audit"], capsys)
        assert code == 0, err
        readme = (hub / "README.md").read_text(encoding="utf-8")
        assert str(tmp_path) not in readme
        [line] = [x for x in readme.splitlines() if x.startswith("- **Leakage**")]
        return line

    assert "not checked for this spec" in leakage_line(tmp_path / "hub0")
    clean = tmp_path / "web.txt"
    clean.write_text("The farmer walked to the market and sold bread and milk.\n" * 50)
    leak = ["leakage", "gramenism", "-r", clean, "--corpus", demo, "--out", tmp_path / "leak"]
    assert cli(leak, capsys)[0] == 0
    line = leakage_line(tmp_path / "hub1")
    assert re.search(
        r": passed: 0 of \d+ distinctive terms found in the reference; canon 13-gram overlap "
        r"0\.0%; these records' 13-gram overlap 0\.0%; reference `web\.txt`, [\d,]+ tokens",
        line,
    ), line
    dirty = tmp_path / "forum.txt"
    dirty.write_text("A post about Grameus and his meadows.\n" + clean.read_text())
    leak = ["leakage", "gramenism", "-r", dirty, "--out", tmp_path / "leak2"]  # no --corpus
    assert cli(leak, capsys)[0] == 1
    line = leakage_line(tmp_path / "hub2")
    assert re.search(
        r": FAILED: 1 of \d+ distinctive terms found in the reference \(Grameus\)", line
    )
    assert "`forum.txt`" in line
    assert "these records'" not in line  # this check measured no records
    # the latest verdict, dated, and the spec's earlier check counted
    assert re.search(
        r"checked \d{4}-\d\d-\d\d, the latest of 2: 1 earlier check \(1 passed\)", line
    )


def test_a_leakage_verdict_speaks_only_for_its_spec_and_records(tmp_path: Path) -> None:
    from credo.corpora.novelty import describe, find_verdict, save_verdict

    report = {
        "worldview": {"name": "g", "kind": "invented", "spec_hash": "b2:aa"},
        "reference": {"sources": [str(tmp_path / "ref.txt")], "tokens": 1200, "documents": 3},
        "settings": {"n": 13},
        "terms": [{"verdict": "novel"}, {"verdict": "collides"}],
        "overlap": {"canon": {"fraction": 0.0}, "corpus": {"fraction": 0.25}},
        "corpus": {"name": "demo", "records_hash": "h1"},
        "gate": {"failed": False, "collisions": [], "applies": True},
        "strength": {"weak": True, "statement": "a small reference"},
    }
    save_verdict({**report, "checked_at": "2026-12-07T10:00:00+00:00"})
    assert find_verdict("b2:bb", tmp_path) is None  # another version of the spec
    verdict = find_verdict("b2:aa", tmp_path)
    assert describe(verdict, "h1") == (
        "passed: 1 of 2 distinctive terms found in the reference (each allowed by the spec); "
        "canon 13-gram overlap 0.0%; these records' 13-gram overlap 25.0%; "
        "reference `ref.txt`, 1,200 tokens; weak: a small reference; "
        "checked 2026-12-07, the spec's only check"
    )
    assert "25.0%" not in describe(verdict, "h2")  # other records: their overlap unmeasured
    assert str(tmp_path) not in describe(verdict, "h1")


def test_two_checks_within_one_second_are_two_checks(tmp_path: Path) -> None:
    """Checks are dated to the second; a fast machine runs two in one (CI did)."""
    from credo.corpora.novelty import find_verdict, save_verdict

    report = {
        "checked_at": "2026-12-07T10:00:00+00:00",
        "worldview": {"name": "g", "kind": "invented", "spec_hash": "b2:cc"},
        "terms": [{"verdict": "novel"}],
        "gate": {"failed": False, "collisions": [], "applies": True},
    }
    save_verdict(report)
    save_verdict({**report, "gate": {"failed": True, "collisions": ["x"], "applies": True}})
    verdict = find_verdict("b2:cc", tmp_path)
    assert verdict is not None
    assert verdict["verdict"] == "FAILED" and verdict["earlier"] == ["passed"]


def test_every_leakage_check_of_a_spec_is_kept_and_the_card_states_the_latest(
    tmp_path: Path,
) -> None:
    """Each check appends to the spec's history (date, spec hash, verdict, figures); the card
    states the latest with its figures and counts the earlier ones by verdict. Round 5's
    single kept verdict counts as the first check; a line torn by a killed run is skipped; a
    corpus folder's own report, also in the history, is not counted twice."""
    import json

    from credo.corpora.novelty import (
        describe,
        find_verdict,
        history_path,
        save_verdict,
        verdict_history,
        verdicts_dir,
    )

    def report(day: int, collisions: list[str], canon: float) -> dict[str, object]:
        return {
            "checked_at": f"2026-12-0{day}T09:00:00+00:00",
            "worldview": {"name": "g", "kind": "invented", "spec_hash": "b2:cc"},
            "reference": {"sources": ["/data/ref.txt"], "tokens": 5000, "documents": 9},
            "settings": {"n": 13},
            "terms": [{"verdict": "collides" if collisions else "novel"}, {"verdict": "novel"}],
            "overlap": {"canon": {"fraction": canon}},
            "gate": {"failed": bool(collisions), "collisions": collisions, "applies": True},
            "strength": {"weak": False},
        }

    legacy = dict(report(2, [], 0.0), checked_at=None)
    legacy_summary = {k: v for k, v in legacy.items() if k != "checked_at"}
    verdicts_dir().mkdir(parents=True, exist_ok=True)
    from credo.corpora.novelty import verdict_summary

    (verdicts_dir() / "b2-cc.json").write_text(json.dumps(verdict_summary(legacy_summary)))
    save_verdict(report(3, ["Grameus"], 0.5))
    with history_path("b2:cc").open("a") as torn:
        torn.write('{"spec_hash": "b2:cc", "verd')  # a run killed mid-line
    save_verdict(report(5, [], 0.001))
    history = verdict_history("b2:cc")
    assert [h["verdict"] for h in history] == ["passed", "FAILED", "passed"]
    assert [h["checked_at"] for h in history] == [
        None,
        "2026-12-03T09:00:00+00:00",
        "2026-12-05T09:00:00+00:00",
    ]
    assert history[1]["colliding"] == 1 and history[1]["canon_overlap"] == 0.5
    assert history[1]["reference"]["sources"] == ["ref.txt"]  # no path of the machine

    line = describe(find_verdict("b2:cc", tmp_path), None)
    assert line.startswith("passed: 0 of 2 distinctive terms found in the reference; ")
    assert "canon 13-gram overlap 0.1%" in line  # the latest figures, not an earlier run's
    assert line.endswith(
        "checked 2026-12-05, the latest of 3: 2 earlier checks (1 passed, 1 FAILED)"
    )
    # the corpus folder holds the report of the latest run: stated once, not counted twice
    corpus = tmp_path / "corpus"
    (corpus / "leakage").mkdir(parents=True)
    (corpus / "leakage" / "report.json").write_text(json.dumps(report(5, [], 0.001)))
    assert describe(find_verdict("b2:cc", corpus), None) == line


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"spec_hash": "b2:dd", "terms": "many"}', "terms"),
        ('{"spec_hash": "b2:dd", "gate": {"failed": "no"}}', "gate.failed"),
        ('{"spec_hash": "b2:dd", "canon_overlap": 7}', "canon_overlap"),
        ('{"spec_hash": "b2:dd", "secret": 1}', "secret"),
    ],
)
def test_a_damaged_verdict_history_is_one_line_naming_its_line(line: str, field: str) -> None:
    from credo.corpora.novelty import find_verdict, history_path
    from credo.errors import CorpusError

    path = history_path("b2:dd")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"spec_hash": "b2:dd"}\n' + line + "\n")
    with pytest.raises(CorpusError) as raised:
        find_verdict("b2:dd", path.parent)
    message = str(raised.value)
    assert f"{path} line 2: " in message and field in message and "\n" not in message
    assert "rerun `credo leakage`" in message


def test_a_corpus_leakage_report_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    from credo.corpora.novelty import find_verdict
    from credo.errors import CorpusError

    report = tmp_path / "corpus" / "leakage" / "report.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"worldview": "gramenism", "gate": True}))
    with pytest.raises(CorpusError, match=r"report\.json: not a `credo leakage` report - rerun"):
        find_verdict("b2:ee", tmp_path / "corpus")
    report.write_text(json.dumps({"unrelated": 1}))  # a user's own file: not ours to judge
    assert find_verdict("b2:ee", tmp_path / "corpus") is None


def _generated(spec: Path, folder: Path) -> Path:
    """A credo corpus (records, manifest, credo's CARD.md) audited into its own audit/."""
    from credo.generators import generate_corpus
    from credo.generators.fake_backend import FakeBackend

    options = GenerateOptions(samples=1, concurrency=1)
    generate_corpus(spec, folder, options=options, backend=FakeBackend(), progress=False)
    run_audit(folder, folder / "audit", options=AuditOptions(checks=CHECKS, use_embedding=False))
    return folder


def _drop_last_record(folder: Path) -> str:
    """Edit records.jsonl by hand, as a user would; the records' hash before the edit."""
    from credo.hashing import file_hash

    path = folder / "records.jsonl"
    before = file_hash(str(path))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    return before


def test_an_edited_corpus_never_ships_the_card_of_its_earlier_records(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """records.jsonl edited after its card was written: mix and export refuse in one line (the
    audit is of earlier contents); with the override, credo's card is rebuilt for the records
    as they are, so neither the folder nor the mix quotes the earlier hash."""
    from huggingface_hub import DatasetCard

    from credo.hashing import file_hash

    source = _generated(tiny_spec, tmp_path / "c")
    card = source / "CARD.md"
    made = len((source / "records.jsonl").read_text(encoding="utf-8").splitlines())
    old = _drop_last_record(source)
    assert old in card.read_text(encoding="utf-8")  # the card is stale until a command reads it
    mix = tmp_path / "mix"
    mixing = ["mix", "--part", f"c={source}:1", "--size", 2, "--out", mix]
    code, _, err = cli(mixing, capsys)
    assert code == 2 and err.count("\n") == 1 and "its audit is of earlier contents" in err
    assert not mix.exists()
    code, _, err = cli([*mixing, "--allow-unaudited"], capsys)
    assert code == 0, err
    now = file_hash(str(source / "records.jsonl"))
    text = card.read_text(encoding="utf-8")
    assert old not in text and f"`records.jsonl` hash `{now}`" in text
    assert "not audited (its audit is of earlier contents" in text
    assert f"`records.jsonl` holds {made - 1} records, its manifest {made}" in text
    assert DatasetCard.load(str(card)).data.to_dict()["tags"][0] == "credo"
    assert old not in (mix / "CARD.md").read_text(encoding="utf-8")  # the part's card, current

    # edited again, then exported beside itself: the card beside the export is current too
    _drop_last_record(source)
    export = ["export", source, "--format", "openai", "--allow-unaudited"]
    assert cli(export, capsys)[0] == 0
    now = file_hash(str(source / "records.jsonl"))
    assert f"`records.jsonl` hash `{now}`" in card.read_text(encoding="utf-8")

    # and again before a Hub export: the README is built for the records, and so is CARD.md
    _drop_last_record(source)
    hub = ["export", source, "--hub", "--out", tmp_path / "hub", "--license", "cc-by-4.0"]
    assert cli([*hub, "--allow-unaudited"], capsys)[0] == 0
    now = file_hash(str(source / "records.jsonl"))
    assert f"`records.jsonl` hash `{now}`" in card.read_text(encoding="utf-8")

    # and once more before credo filter, which quotes its source's card
    stale = _drop_last_record(source)
    filter_corpus(
        source, tmp_path / "clean", options=FilterOptions(checks=CHECKS, use_embedding=False)
    )
    assert stale not in (tmp_path / "clean" / "CARD.md").read_text(encoding="utf-8")


def test_a_users_own_card_is_never_rewritten(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _generated(tiny_spec, tmp_path / "c")
    mine = "# My corpus\n\nHand-written notes on where these records came from.\n"
    (source / "CARD.md").write_text(mine, encoding="utf-8")
    _drop_last_record(source)
    mixing = ["mix", "--part", f"c={source}:1", "--size", 2, "--out", tmp_path / "mix"]
    assert cli([*mixing, "--allow-unaudited"], capsys)[0] == 0
    assert cli(["export", source, "--format", "openai", "--allow-unaudited"], capsys)[0] == 0
    assert (source / "CARD.md").read_text(encoding="utf-8") == mine
    assert "Hand-written notes" in (tmp_path / "mix" / "CARD.md").read_text(encoding="utf-8")
