"""A folder's own CARD.md is the Hub card: one builder (huggingface_hub's DatasetCard with
DatasetCardData), a YAML header the Hub's parser reads, licence fields, the audit of the
records beside it, a load snippet that runs, and no path of this machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from credo.audit import run_audit
from credo.audit.options import AuditOptions
from credo.corpora.hub import write_hub_folder
from credo.generators import generate_corpus
from credo.generators.run_options import GenerateOptions

hub = pytest.importorskip("huggingface_hub")
pytest.importorskip("datasets")
CHECKS = AuditOptions(checks=["structure", "refusal", "truncation"], use_embedding=False)


def made_and_audited(card: str) -> str:
    """The card's "How this data was made and audited" section, up to its provenance."""
    return card.split("## How this data was made and audited", 1)[1].split("## Provenance")[0]


@pytest.fixture
def corpus(tiny_spec: Path, tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    generate_corpus(tiny_spec, out, options=GenerateOptions(model="fake/echo", use_cache=False))
    return out


def test_the_local_card_has_the_hub_cards_header_and_states_its_audit(
    corpus: Path, tmp_path: Path
) -> None:
    card = hub.DatasetCard.load(str(corpus / "CARD.md"))
    meta = card.data.to_dict()
    assert meta["license"] == "unknown"  # no licence chosen yet: export --hub asks for one
    assert "credo" in meta["tags"] and meta["size_categories"] == ["n<1K"]
    assert meta["task_categories"] == ["text-generation"]
    assert "**Audit certificate**: not audited (no audit of its records)" in card.text
    text = (corpus / "CARD.md").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(Path.home()) not in text

    run_audit(corpus, corpus / "audit", options=CHECKS)  # into the corpus' own audit/ folder
    card = hub.DatasetCard.load(str(corpus / "CARD.md"))
    assert "**Audit certificate**: passed (every gate passed)" in card.text
    assert re.search(r"\| truncation \| yes \| 0 \| 0 \| 0 records \| passed \|", card.text)

    # the Hub export's README is the same card: the same facts, the same audit table
    folder = write_hub_folder(corpus, tmp_path / "hub", license="cc-by-4.0")
    readme = hub.DatasetCard.load(str(folder.readme))
    assert readme.data.to_dict()["license"] == "cc-by-4.0" and readme.data.to_dict()["configs"]
    assert made_and_audited(readme.text) == made_and_audited(card.text)


def test_an_audit_elsewhere_or_a_users_own_card_leaves_the_card_alone(
    corpus: Path, tmp_path: Path
) -> None:
    before = (corpus / "CARD.md").read_text(encoding="utf-8")
    run_audit(corpus, tmp_path / "elsewhere", options=CHECKS)
    assert (corpus / "CARD.md").read_text(encoding="utf-8") == before
    (corpus / "CARD.md").write_text("# My own notes\n", encoding="utf-8")
    run_audit(corpus, corpus / "audit", options=CHECKS)
    assert (corpus / "CARD.md").read_text(encoding="utf-8") == "# My own notes\n"


def test_the_local_cards_load_snippet_runs_in_its_folder(corpus: Path) -> None:
    text = (corpus / "CARD.md").read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(corpus.parent / "c")}
    done = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=corpus,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == str(len((corpus / "records.jsonl").read_text().splitlines()))


def test_a_format_export_in_its_own_folder_carries_the_card_and_states_the_override(
    corpus: Path, tmp_path: Path
) -> None:
    from credo.corpora.exporting import ExportOptions, export_corpus
    from credo.corpora.io import read_records, write_records
    from credo.errors import CorpusError

    records = list(read_records(corpus))  # one answer cut off: the truncation gate fails
    cut = records[0]
    records[0] = type(cut)(cut.id, cut.messages, {**cut.meta, "stop_reason": "length"})
    write_records(records, corpus / "records.jsonl")
    run_audit(corpus, corpus / "audit", options=CHECKS)
    with pytest.raises(CorpusError, match="its audit failed"):
        export_corpus(corpus, tmp_path / "x", options=ExportOptions(fmt="openai"))
    assert not (tmp_path / "x").exists()
    done = export_corpus(
        corpus, tmp_path / "x", options=ExportOptions(fmt="openai", allow_failed_audit=True)
    )
    assert done.files["card"] == "CARD.md"
    card = hub.DatasetCard.load(str(tmp_path / "x" / "CARD.md"))
    assert "credo" in card.data.to_dict()["tags"]
    assert "without a passing audit (failed: gates failed: truncation 1)" in card.text
    assert "`--allow-failed-audit`" in card.text
    # beside the corpus itself, the corpus' own card stays the card
    before = (corpus / "CARD.md").read_text(encoding="utf-8")
    export_corpus(corpus, options=ExportOptions(fmt="openai", allow_failed_audit=True))
    assert (corpus / "CARD.md").read_text(encoding="utf-8") == before
