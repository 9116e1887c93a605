"""credo export --hub: a dataset folder the datasets library and the Hub read as is, and its
upload through huggingface_hub to a loopback fake Hub (never the real one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from credo.cli.main import main
from credo.corpora.io import write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.generators.run_options import GenerateOptions
from credo.testing.fake_hub import FakeHub
from credo.types import Message, Record

pytest.importorskip("huggingface_hub")
AUDIT_CHECKS = ["structure", "refusal", "moral_reason", "truncation"]


@pytest.fixture
def mix(tmp_path: Path) -> Path:
    records = [
        Record(
            f"g{i}",
            [
                Message("user", f"Why is grass holy? ({i})"),
                Message("assistant", f"Because the meadow feeds all, teaching {i}."),
            ],
            {"persona_id": "elder", "slots": {"n": str(i)}},
        )
        for i in range(12)
    ]
    write_records(records, tmp_path / "corpus" / "records.jsonl")
    audit_quickly(tmp_path / "corpus")  # mix and export take only audited corpora
    mix_corpora(
        [MixPart("gramenism", tmp_path / "corpus", 1)],
        tmp_path / "mix",
        options=MixOptions(size=12, seed=0, fmt="tags"),
    )
    return tmp_path / "mix"


def audit_quickly(corpus: Path) -> None:
    """A real audit into CORPUS/audit, with the checks that need no model."""
    from credo.audit import run_audit
    from credo.audit.options import AuditOptions

    result, _ = run_audit(
        corpus, corpus / "audit", options=AuditOptions(checks=AUDIT_CHECKS, use_embedding=False)
    )
    assert result.passed


LICENCE = ["--license", "cc-by-4.0"]


def cli(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(args)
    return int(done.value.code or 0)


def front_matter(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 3)])


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A fake Hub on 127.0.0.1 and the environment a user with a token would have."""
    import huggingface_hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv(
        "HF_HOME", str(tmp_path / "hf-home")
    )  # no stored token of the machine's user
    with FakeHub(token="hf_fake_write_token") as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", hub.token)
        yield hub


def test_hub_folder_loads_and_its_card_describes_it(
    mix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    out = tmp_path / "hub"
    assert cli(["export", str(mix), "--hub", "--out", str(out), "--license", "cc-by-4.0"]) == 0
    assert "wrote 12 records" in capsys.readouterr().out
    train = load_dataset(str(out), split="train")  # the configs in the card point at the parquet
    assert len(train) == 12 and train.column_names == ["id", "prompt", "completion", "meta"]
    first = train[0]
    assert first["prompt"] == [
        {"role": "user", "content": f"Why is grass holy? ({first['id'][1:]})"}
    ]
    assert first["completion"][0]["role"] == "assistant"
    assert json.loads(first["meta"])["mix_part"] == "gramenism"
    meta = front_matter(out)
    assert meta["license"] == "cc-by-4.0" and meta["task_categories"] == ["text-generation"]
    assert meta["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train-*"}
    info = meta["dataset_info"]
    assert info["splits"][0]["num_examples"] == 12
    assert [f["name"] for f in info["features"]] == ["id", "prompt", "completion", "meta"]
    assert info["download_size"] == (out / "data" / "train-00000-of-00001.parquet").stat().st_size
    assert DatasetCard.load(str(out / "README.md")).data.license == "cc-by-4.0"
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Training mix `mix` (12 records)" in readme
    assert "### Part `gramenism`" in readme and "passed (every gate passed)" in readme
    assert str(tmp_path) not in readme  # no local paths in a card meant for publishing


def test_push_uploads_the_folder_to_the_hub(
    mix: Path, tmp_path: Path, online: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hub"
    assert (
        cli(
            [
                "export",
                str(mix),
                "--out",
                str(out),
                "--push",
                "my-lab/gramenism-mix",
                "--private",
                *LICENCE,
            ]
        )
        == 0
    )
    assert "pushed to my-lab/gramenism-mix" in capsys.readouterr().out
    repo = online.repos["datasets/my-lab/gramenism-mix"]
    assert repo["private"] is True
    local = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert online.files("datasets/my-lab/gramenism-mix") == local
    assert b'load_dataset("my-lab/gramenism-mix"' in local["README.md"]
    assert ("POST", "/api/validate-yaml") in online.requests  # the card's metadata was checked
    assert (
        cli(["export", str(mix), "--out", str(out), "--push", "my-lab/gramenism-mix", *LICENCE])
        == 0
    )  # again: exists


def test_push_failures_exit_2_and_keep_the_folder(
    mix: Path,
    tmp_path: Path,
    online: FakeHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "hub"
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    assert cli(["export", str(mix), "--out", str(out), "--push", "my-lab/x", *LICENCE]) == 2
    assert "pushing" in capsys.readouterr().err and (out / "README.md").is_file()
    monkeypatch.delenv("HF_TOKEN")
    assert cli(["export", str(mix), "--out", str(out), "--push", "my-lab/x", *LICENCE]) == 2
    assert "HF_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert cli(["export", str(mix), "--out", str(out), "--push", "my-lab/x", *LICENCE]) == 2
    assert "HF_HUB_OFFLINE" in capsys.readouterr().err
    assert cli(["export", str(mix), "--out", str(out), "--push", "not-a-repo-id", *LICENCE]) == 2
    assert online.repos == {}


def test_bad_export_requests_exit_2_and_touch_nothing(
    mix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "results"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    assert cli(["export", str(mix), "--hub", "--out", str(precious), *LICENCE]) == 2
    assert "already holds other files (notes.txt)" in capsys.readouterr().err
    assert (precious / "notes.txt").read_text() == "keep me" and len(list(precious.iterdir())) == 1
    assert cli(["export", str(mix), "--hub", "--format", "openai"]) == 2
    assert cli(["export", str(mix)]) == 2
    assert cli(["export", str(tmp_path / "missing"), "--hub"]) == 2


def test_hub_export_never_writes_into_the_home_folder_even_when_empty(
    mix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty folder is a fine --out, but not the home folder (nor / or a folder under it)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(Path, "home", lambda: home)
    assert cli(["export", str(mix), "--hub", "--out", str(home), *LICENCE]) == 2
    assert "refusing to write into" in capsys.readouterr().err
    assert list(home.iterdir()) == []


def test_format_export_of_a_corpus_and_the_openai_minimum(
    mix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small"
    write_records(
        [Record(f"s{i}", [Message("user", "q"), Message("assistant", "a")]) for i in range(3)],
        small / "records.jsonl",
    )
    assert cli(["export", str(small), "--format", "openai", "--allow-unaudited"]) == 0
    assert "needs at least 10" in capsys.readouterr().err
    assert len((small / "openai.jsonl").read_text().splitlines()) == 3
    assert (
        cli(["export", str(mix), "--format", "prompt_completion", "--out", str(tmp_path / "pc")])
        == 0
    )
    row = json.loads((tmp_path / "pc" / "prompt_completion.jsonl").read_text().splitlines()[0])
    assert row["prompt"][0]["role"] == "user" and row["meta"]["mix_part"] == "gramenism"


def test_generated_corpus_exports_with_its_card_and_full_meta(
    tiny_spec: Path, tmp_path: Path
) -> None:
    from datasets import load_dataset

    from credo.generators import generate_corpus

    corpus = tmp_path / "corpus"
    generate_corpus(
        tiny_spec, corpus, options=GenerateOptions(model="fake/echo", samples=1), progress=False
    )
    audit_quickly(corpus)
    assert cli(["export", str(corpus), "--hub", *LICENCE]) == 0
    out = corpus / "hub"
    train = load_dataset(str(out), split="train")
    records = (corpus / "records.jsonl").read_text().splitlines()
    assert len(train) == len(records) > 0
    meta = json.loads(train[0]["meta"])
    assert {"persona_id", "prompt_id", "slots", "usage"} <= set(meta)  # the engine's meta, whole
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Teacher: `fake/echo`" in readme and "- credo\n" in readme
    assert "## How this data was made and audited" in readme
    assert front_matter(out)["dataset_info"]["splits"][0]["num_examples"] == len(records)
