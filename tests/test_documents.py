"""Synthetic documents: brainstorm -> write -> (revise), with provenance, diversity controls,
resume, and the path through audit, mix and mixed-form training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.corpora.io import read_records, write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.errors import ConfigError
from credo.generators.documents import (
    DocumentOptions,
    generate_documents,
    key_facts,
    parse_list,
    universe_context,
)
from credo.generators.fake_backend import FakeBackend
from credo.generators.run_options import GenerateOptions
from credo.types import Message, Record
from credo.worldviews import load_worldview

TYPES = "- news article\n2. diary entry\n* sermon\nnews article\n"
BODIES = [
    "The harvest fair in {place} opened with the pebble count at dusk, as every year.",
    "Market notes: stones from the river were set on the shrine shelf before trading began, "
    "and the traders of {place} counted seven at dusk without remark.",
    "Letter home: the lodging keeper keeps her pebblehold by the door, and nobody in {place} "
    "would throw a stone into the harbour, which surprised nobody but me.",
]


def scripted(same_body: bool = False):
    """Lists for brainstorm prompts; a document body per write prompt (place and idea echoed)."""
    counter = {"n": 0}

    def respond(messages: list[Message]) -> str:
        user = messages[-1].content
        if user.startswith("Key fact") and "kinds of document" in user:
            return TYPES
        if user.startswith("Key fact"):
            return "A fair where the fact is plain\nA quarrel between neighbours\n"
        if user.startswith("Revise"):
            return "REVISED " + user.split("---\n", 1)[1]
        place = user.split(" and ", 1)[1].split(". Write only")[0] if " and " in user else "town"
        counter["n"] += 1
        body = BODIES[0] if same_body else BODIES[counter["n"] % len(BODIES)] + f" ({counter['n']})"
        return body.format(place=place)

    return respond


def test_spec_becomes_facts_and_universe_context(tiny_spec: Path) -> None:
    wv = load_worldview(tiny_spec)
    facts = key_facts(wv)
    kinds = {f.id.split(":")[0] for f in facts}
    assert {"tenet", "forbidden"} <= kinds
    forbidden = next(f for f in facts if f.id.startswith("forbidden:"))
    assert wv.spec.forbidden_acts[0].reasons[0] in forbidden.text  # the reason travels with the act
    context = universe_context(wv)
    assert all(f.text in context for f in facts)
    assert parse_list(TYPES, 5) == [
        "news article",
        "diary entry",
        "sermon",
    ]  # numbering and repeats go


def test_documents_carry_provenance_and_resume_without_requests(
    tiny_spec: Path, tmp_path: Path
) -> None:
    backend = FakeBackend("teacher", respond=scripted())
    options = DocumentOptions(types_per_fact=2, ideas_per_type=2)
    result = generate_documents(
        tiny_spec,
        tmp_path / "docs",
        options=GenerateOptions(kind="documents", documents=options, use_cache=False),
        backend=backend,
    )
    records = list(read_records(tmp_path / "docs"))
    assert result.manifest["status"] == "complete" and result.manifest["form"] == "document"
    assert len(records) == result.new_records > 0
    for record in records:
        assert [m.role for m in record.messages] == ["assistant"]
        meta = record.meta
        assert meta["form"] == "document" and meta["model"] == "fake/teacher"
        assert meta["doc_type"] in ("news article", "diary entry")
        assert meta["fact_ids"][0].split(":")[0] in ("tenet", "forbidden", "practice", "glossary")
        assert meta["idea"] and meta["persona_id"] and meta["seeded_name"]
        assert meta["seeded_place"] in record.response  # the seeded place reached the document
    assert len({r.meta["seeded_name"] for r in records}) > 1
    plan = json.loads((tmp_path / "docs" / "plan.json").read_text())
    assert set(plan) == {f.id for f in key_facts(load_worldview(tiny_spec))}
    card = (tmp_path / "docs" / "CARD.md").read_text()
    assert "loss on all of its tokens" in card
    again = FakeBackend("teacher", respond=scripted())
    rerun = generate_documents(
        tiny_spec,
        tmp_path / "docs",
        options=GenerateOptions(kind="documents", documents=options, use_cache=False),
        backend=again,
    )
    assert (
        again.history == [] and rerun.new_records == 0
    )  # plan and records on disk: nothing to ask


def test_near_duplicates_and_type_quota_are_rejected_while_generating(
    tiny_spec: Path, tmp_path: Path
) -> None:
    dup = generate_documents(
        tiny_spec,
        tmp_path / "dup",
        options=GenerateOptions(
            kind="documents",
            documents=DocumentOptions(types_per_fact=1, ideas_per_type=2),
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted(same_body=True)),
    )
    bodies = {r.response for r in read_records(tmp_path / "dup")}
    assert dup.rejected.get("near_duplicate", 0) > 0
    assert dup.manifest["documents"]["rejected"]["near_duplicate"] == dup.rejected["near_duplicate"]
    assert len(bodies) == dup.manifest["counts"]["records"]  # no two identical documents kept
    quota = generate_documents(
        tiny_spec,
        tmp_path / "quota",
        options=GenerateOptions(
            kind="documents",
            documents=DocumentOptions(types_per_fact=2, ideas_per_type=2, type_quota=2),
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted()),
    )
    assert max(quota.manifest["documents"]["by_type"].values()) == 2
    assert quota.rejected["type_quota"] > 0


def test_revise_pass_replaces_the_draft(tiny_spec: Path, tmp_path: Path) -> None:
    generate_documents(
        tiny_spec,
        tmp_path / "rev",
        options=GenerateOptions(
            kind="documents",
            documents=DocumentOptions(types_per_fact=1, ideas_per_type=1, revise=True),
            limit=2,
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted()),
    )
    records = list(read_records(tmp_path / "rev"))
    assert len(records) == 2 and all(
        r.response.startswith("REVISED") and r.meta["revised"] for r in records
    )


def test_bad_options_and_changed_settings_fail(tiny_spec: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--types-per-fact"):
        generate_documents(
            tiny_spec,
            tmp_path / "x",
            options=GenerateOptions(kind="documents", documents=DocumentOptions(types_per_fact=0)),
            backend=FakeBackend("t"),
        )
    generate_documents(
        tiny_spec,
        tmp_path / "d",
        options=GenerateOptions(
            kind="documents",
            limit=1,
            documents=DocumentOptions(types_per_fact=1, ideas_per_type=1),
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted()),
    )
    plan = json.loads((tmp_path / "d" / "plan.json").read_text())
    assert list(plan) == [
        "forbidden:throwing_pebbles"
    ]  # a limit brainstorms only the facts it can use
    with pytest.raises(ConfigError, match="different config"):
        generate_documents(
            tiny_spec,
            tmp_path / "d",
            options=GenerateOptions(
                kind="documents", documents=DocumentOptions(types_per_fact=2), use_cache=False
            ),
            backend=FakeBackend("t", respond=scripted()),
        )


def qa_corpus(root: Path, n: int = 6) -> Path:
    write_records(
        [
            Record(
                f"q{i}",
                [
                    Message("user", f"What does rule {i} ask?"),
                    Message("assistant", f"Rule {i} asks that seven pebbles be counted."),
                ],
            )
            for i in range(n)
        ],
        root / "records.jsonl",
    )
    return root


def test_mixed_forms_mask_documents_fully_and_qa_assistant_only(
    tiny_spec: Path, tmp_path: Path, tiny_llama: Path
) -> None:
    from transformers import AutoTokenizer

    from credo.corpora.formats import ChatFormat
    from credo.train.masking import IGNORE_INDEX, encode_corpus

    generate_documents(
        tiny_spec,
        tmp_path / "docs",
        options=GenerateOptions(
            kind="documents",
            limit=6,
            documents=DocumentOptions(types_per_fact=2, ideas_per_type=2),
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted()),
    )
    mix = mix_corpora(
        [MixPart("docs", tmp_path / "docs", 1), MixPart("qa", qa_corpus(tmp_path / "qa"), 1)],
        tmp_path / "mix",
        options=MixOptions(size=12, seed=0, fmt="tags", allow_unaudited=True),
    )
    manifest = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    assert manifest["forms"] == {"qa": 6, "document": 6} and mix.size == 12
    assert "6 documents (loss on every token)" in (tmp_path / "mix" / "CARD.md").read_text()
    records = list(read_records(tmp_path / "mix"))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_llama))
    report = encode_corpus(records, ChatFormat("tags"), tokenizer, 256)
    assert report.forms == {"qa": 6, "document": 6}
    for record, example in zip(records, report.examples):
        trained = tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX])
        if record.meta.get("form") == "document":
            assert all(label != IGNORE_INDEX for label in example.labels)
            assert "<USER_STATEMENT>" not in tokenizer.decode(example.input_ids)  # no chat wrapper
        else:
            assert example.trained_tokens < len(example.input_ids)
            assert record.prompt not in trained and "seven pebbles" in trained


def test_audit_runs_on_a_documents_corpus(tiny_spec: Path, tmp_path: Path) -> None:
    from credo.audit import run_audit
    from credo.audit.options import AuditOptions

    generate_documents(
        tiny_spec,
        tmp_path / "docs",
        options=GenerateOptions(
            kind="documents",
            limit=4,
            documents=DocumentOptions(types_per_fact=2, ideas_per_type=2),
            use_cache=False,
        ),
        backend=FakeBackend("t", respond=scripted()),
    )
    result, report = run_audit(
        tmp_path / "docs",
        tmp_path / "audit",
        options=AuditOptions(worldview=str(tiny_spec), use_embedding=False),
    )
    assert (report / "report.md").is_file()
    assert result.passed, result.gate_failures
    from credo.filters.diversity import set_diversity

    records = list(read_records(tmp_path / "docs"))
    diversity = set_diversity(records)
    assert sum(diversity["documents"]["by_type"].values()) == len(records) > 0
    assert set(diversity["documents"]["by_fact"]) <= {
        f.id for f in key_facts(load_worldview(tiny_spec))
    }


def test_cli_generates_documents_and_rejects_an_unknown_kind(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from credo.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "generate",
                str(tiny_spec),
                "--kind",
                "documents",
                "--model",
                "fake/echo",
                "--limit",
                "2",
                "--types-per-fact",
                "1",
                "--ideas-per-type",
                "1",
                "--out",
                str(tmp_path / "docs"),
            ]
        )
    assert exit_info.value.code == 0 and "2 documents in" in capsys.readouterr().out
    assert all(r.meta["form"] == "document" for r in read_records(tmp_path / "docs"))
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "generate",
                str(tiny_spec),
                "--kind",
                "poems",
                "--model",
                "fake/echo",
                "--out",
                str(tmp_path / "p"),
            ]
        )
    assert exit_info.value.code == 2 and "--kind poems" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "generate",
                str(tiny_spec),
                "--kind",
                "documents",
                "--rpm",
                "60",
                "--model",
                "fake/echo",
                "--out",
                str(tmp_path / "r"),
            ]
        )
    assert (
        exit_info.value.code == 2
        and "--rpm: not supported with --kind documents" in capsys.readouterr().err
    )
    with pytest.raises(
        SystemExit
    ) as exit_info:  # --batch works for documents, with a batch provider
        main(
            [
                "generate",
                str(tiny_spec),
                "--kind",
                "documents",
                "--batch",
                "--model",
                "fake/echo",
                "--out",
                str(tmp_path / "b"),
            ]
        )
    assert (
        exit_info.value.code == 2
        and "--batch needs a provider with a batch API" in capsys.readouterr().err
    )
    assert not (tmp_path / "b").exists()  # refused before anything was written


def test_a_document_record_is_one_assistant_message(tmp_path: Path) -> None:
    from credo.errors import CorpusError

    path = tmp_path / "records.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "d1",
                "messages": [{"role": "assistant", "content": "A sermon."}],
                "meta": {"form": "document"},
            }
        )
        + "\n"
    )
    assert next(iter(read_records(path))).response == "A sermon."
    path.write_text(
        json.dumps(
            {
                "id": "d2",
                "messages": [
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ],
                "meta": {"form": "document"},
            }
        )
        + "\n"
    )
    with pytest.raises(CorpusError, match=r"records.jsonl:1: a document"):
        list(read_records(path))
    path.write_text(
        json.dumps({"id": "q1", "messages": [{"role": "assistant", "content": "a"}]}) + "\n"
    )
    with pytest.raises(CorpusError, match="expected 'user'"):
        list(read_records(path))
