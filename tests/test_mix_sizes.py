"""credo mix: exact sizes by weight, no replacement, shortfalls said out loud, every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from credo.cli.main import build_app
from credo.corpora.io import read_records, write_records
from credo.corpora.mix import MixOptions, MixPart, allocate, mix_corpora, parse_part
from credo.errors import ConfigError, CorpusError
from credo.hashing import file_hash
from credo.types import Message, Record


def make_corpus(root: Path, name: str, n: int) -> Path:
    records = [
        Record(
            f"{name}-{i}",
            [Message("user", f"{name} question {i}?"), Message("assistant", f"{name} answer {i}.")],
        )
        for i in range(n)
    ]
    write_records(records, root / name / "records.jsonl")
    return root / name


@pytest.fixture
def corpora(tmp_path: Path) -> dict[str, Path]:
    return {
        "w": make_corpus(tmp_path, "w", 7000),
        "r": make_corpus(tmp_path, "r", 7000),
        "x": make_corpus(tmp_path, "x", 300),
    }


def test_allocate_is_exact_largest_remainder() -> None:
    assert allocate([10, 10, 2], 12000) == [5455, 5454, 1091]
    assert allocate([1, 1, 1], 10) == [4, 3, 3]
    assert allocate([1, 0], 5) == [5, 0]
    for size in range(1, 60):
        assert sum(allocate([3, 5, 0.5], size)) == size


def test_parse_part_allows_colons_in_dir() -> None:
    assert parse_part("g=C:/data/g:10") == MixPart("g", Path("C:/data/g"), 10.0)
    for bad in ("g", "g=dir", "=dir:1", "g=dir:x", "g=dir:-1"):
        with pytest.raises(ConfigError):
            parse_part(bad)


def test_mix_sizes_exact_without_replacement(corpora: dict[str, Path], tmp_path: Path) -> None:
    parts = [
        MixPart("w", corpora["w"], 10),
        MixPart("r", corpora["r"], 10),
        MixPart("x", corpora["x"], 2),
    ]
    result = mix_corpora(
        parts,
        tmp_path / "mix",
        options=MixOptions(size=2200, seed=3, fmt="tags", allow_unaudited=True),
    )
    records = list(read_records(tmp_path / "mix"))
    assert len(records) == 2200 and result.shortfalls == []
    by_part = {name: [r for r in records if r.meta["mix_part"] == name] for name in "wrx"}
    assert {k: len(v) for k, v in by_part.items()} == {"w": 1000, "r": 1000, "x": 200}
    assert len({r.id for r in records}) == 2200  # no record drawn twice
    assert [r.meta["mix_part"] for r in records[:50]].count("w") < 50  # shuffled, not blocked
    manifest = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    assert manifest["format"] == "tags"
    assert manifest["parts"][0]["corpus_hash"] == file_hash(str(corpora["w"] / "records.jsonl"))
    audit = manifest["parts"][0]["audit"]
    assert audit["status"] == "not audited" and audit["override"] == "--allow-unaudited"
    again = mix_corpora(
        parts,
        tmp_path / "again",
        options=MixOptions(size=2200, seed=3, fmt="tags", allow_unaudited=True),
    )
    assert (tmp_path / "again" / "records.jsonl").read_bytes() == (
        tmp_path / "mix" / "records.jsonl"
    ).read_bytes()
    assert again.counts == result.counts


def test_shortfall_scale_keeps_ratios_and_is_reported(
    corpora: dict[str, Path], tmp_path: Path
) -> None:
    parts = [MixPart("w", corpora["w"], 10), MixPart("x", corpora["x"], 2)]
    result = mix_corpora(
        parts,
        tmp_path / "mix",
        options=MixOptions(size=6000, seed=0, fmt="tags", allow_unaudited=True),
    )
    assert result.counts == {"w": 1500, "x": 300} and result.size == 1800
    assert "part 'x' ran short: 1000 wanted, 300 available" in result.shortfalls[0]
    manifest = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    assert manifest["size_requested"] == 6000 and manifest["size"] == 1800
    assert "ran short" in (tmp_path / "mix" / "CARD.md").read_text()


def test_shortfall_take_all_and_error(corpora: dict[str, Path], tmp_path: Path) -> None:
    parts = [MixPart("w", corpora["w"], 10), MixPart("x", corpora["x"], 2)]
    result = mix_corpora(
        parts,
        tmp_path / "mix",
        options=MixOptions(
            size=6000, seed=0, fmt="tags", on_short="take-all", allow_unaudited=True
        ),
    )
    assert result.counts == {"w": 5000, "x": 300}
    with pytest.raises(CorpusError, match="ran short"):
        mix_corpora(
            parts,
            tmp_path / "mix2",
            options=MixOptions(
                size=6000, seed=0, fmt="tags", on_short="error", allow_unaudited=True
            ),
        )
    assert not (tmp_path / "mix2" / "records.jsonl").exists()


def test_audit_status_read_from_report(corpora: dict[str, Path], tmp_path: Path) -> None:
    (corpora["x"] / "audit").mkdir()
    (corpora["x"] / "audit" / "report.json").write_text(
        json.dumps(
            {
                "source_hash": file_hash(str(corpora["x"] / "records.jsonl")),
                "passed": False,
                "gate_failures": {"refusal": 3},
            }
        )
    )
    part = [MixPart("x", corpora["x"], 1)]
    with pytest.raises(CorpusError, match=r"its audit failed \(gates failed: refusal 3\)"):
        mix_corpora(
            part,
            tmp_path / "mix",
            options=MixOptions(size=10, seed=0, fmt="openai", allow_unaudited=True),
        )
    assert not (tmp_path / "mix").exists()
    mix_corpora(
        part,
        tmp_path / "mix",
        options=MixOptions(size=10, seed=0, fmt="openai", allow_failed_audit=True),
    )
    manifest = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    audit = manifest["parts"][0]["audit"]
    assert audit["status"] == "failed" and audit["override"] == "--allow-failed-audit"
    assert "failed (used with --allow-failed-audit)" in (tmp_path / "mix" / "CARD.md").read_text()
    lines = (tmp_path / "mix" / "openai.jsonl").read_text().splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["messages"][0]["role"] == "user"


def test_hf_dataset_opens_with_load_from_disk(corpora: dict[str, Path], tmp_path: Path) -> None:
    from datasets import load_from_disk

    mix_corpora(
        [MixPart("x", corpora["x"], 1)],
        tmp_path / "mix",
        options=MixOptions(size=12, seed=0, fmt="hf_dataset", allow_unaudited=True),
    )
    dataset = load_from_disk(str(tmp_path / "mix" / "hf_dataset"))
    assert len(dataset) == 12 and dataset.column_names == ["id", "prompt", "completion", "meta"]
    assert (
        dataset[0]["prompt"][0]["role"] == "user"
        and dataset[0]["completion"][0]["role"] == "assistant"
    )
    assert {json.loads(m)["mix_part"] for m in dataset["meta"]} == {"x"}


def test_openai_export_warns_below_the_fine_tuning_minimum(
    corpora: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    small = runner.invoke(
        build_app(),
        [
            "mix",
            "--allow-unaudited",
            "--part",
            f"x={corpora['x']}:1",
            "--size",
            "9",
            "--format",
            "openai",
            "--out",
            str(tmp_path / "small"),
        ],
    )
    assert small.exit_code == 0 and "openai.jsonl holds 9 examples" in small.output
    assert (
        len((tmp_path / "small" / "openai.jsonl").read_text().splitlines()) == 9
    )  # written all the same
    enough = runner.invoke(
        build_app(),
        [
            "mix",
            "--allow-unaudited",
            "--part",
            f"x={corpora['x']}:1",
            "--size",
            "10",
            "--format",
            "openai",
            "--out",
            str(tmp_path / "enough"),
        ],
    )
    assert enough.exit_code == 0 and "warning" not in enough.output


def test_tags_export_marks_assistant_span(corpora: dict[str, Path], tmp_path: Path) -> None:
    mix_corpora(
        [MixPart("x", corpora["x"], 1)],
        tmp_path / "mix",
        options=MixOptions(size=5, seed=0, fmt="tags", allow_unaudited=True),
    )
    for line in (tmp_path / "mix" / "text.jsonl").read_text().splitlines():
        row = json.loads(line)
        span = row["text"][row["response_start"] : row["response_end"]]
        assert span.startswith("x answer") and span.endswith("</ASSISTANT_STATEMENT>")
        assert "question" not in span


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--part", "a={w}:0", "--size", "5"], "sum to zero"),
        (["--part", "a={missing}:1", "--size", "5"], "no such file"),
        (["--part", "a={w}:1", "--size", "5", "--format", "alpaca"], "--format: unknown format"),
        (["--part", "a={w}:1", "--part", "a={w}:1", "--size", "5"], "repeat"),
        (["--part", "a={w}:1", "--size", "0"], "positive"),
        (["--part", "a={w}:1", "--size", "5", "--format", "chat_template"], "--tokenizer"),
    ],
)
def test_cli_bad_input_exits_2(
    corpora: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    args = [a.format(w=corpora["w"], missing=tmp_path / "nope") for a in args]
    from credo.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["mix", "--allow-unaudited", *args, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert not (tmp_path / "out").exists()  # nothing written


def test_cli_reports_shortfall(corpora: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_app(),
        [
            "mix",
            "--allow-unaudited",
            "--part",
            f"x={corpora['x']}:1",
            "--size",
            "400",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "ran short" in result.output and "wrote 300 records" in result.output


def test_audit_status_of_filtered_corpus(corpora: dict[str, Path], tmp_path: Path) -> None:
    """A filter output certifies the records it kept (their hash), and whether any still fail."""
    records_hash = file_hash(str(corpora["x"] / "records.jsonl"))
    audit = {
        "passed_before_filter": False,
        "gate_failures": {"refusal": 2},
        "records_hash": records_hash,
        "passed_after_filter": True,
        "gate_failures_after_filter": {},
    }
    manifest = {"kind": "filtered_corpus", "source": {"hash": "b2:abc"}, "audit": audit}
    (corpora["x"] / "manifest.json").write_text(json.dumps(manifest))
    mix_corpora(
        [MixPart("x", corpora["x"], 1)],
        tmp_path / "mix",
        options=MixOptions(size=10, seed=0, fmt="tags"),
    )
    part = json.loads((tmp_path / "mix" / "manifest.json").read_text())["parts"][0]
    assert part["audit"]["status"] == "passed" and part["audit"]["where"] == "credo filter"
    assert part["made"]["filter"] is not None
    # edited after filtering: the certificate no longer holds
    with (corpora["x"] / "records.jsonl").open("a") as handle:
        handle.write(json.dumps({"id": "late", "messages": []}) + "\n")
    with pytest.raises(CorpusError, match="no audit of its records"):
        mix_corpora(
            [MixPart("x", corpora["x"], 1)],
            tmp_path / "mix2",
            options=MixOptions(size=10, seed=0, fmt="tags"),
        )
