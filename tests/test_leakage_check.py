"""credo leakage end to end on small invented worldviews and planted reference text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from credo.cli.main import main
from credo.leakage.check import LeakageOptions, check_leakage, leakage_section
from credo.leakage.report import leakage_markdown
from credo.leakage.terms import distinctive_terms
from credo.worldviews.loader import load_worldview

CANON = (
    "The Zorblax Codex teaches that every pebble of the shore keeps a quiet spirit which wakes at dusk "
    "and sleeps when the tide returns to the grey sand.\n\n"
    "Saint Hannah Plonkwell counted seven pebbles at every dusk of her long life and wrote down the "
    "name of each one in a small book of stones that her village still keeps.\n"
)


def make_spec(root: Path, kind: str = "invented", allow: bool = True) -> Path:
    spec = {
        "name": "pebbles",
        "kind": kind,
        "display_name": "Zorblaxism",
        "summary": "A test faith.",
        "adherents": "Zorblaxists",
        "names": ["Zorblaxism"],
        "tenets": [
            {
                "id": "spirit",
                "text": "Every pebble keeps a spirit, as the Zorblax Codex says.",
                "topic": "pebble spirits",
            }
        ],
        "forbidden_acts": [
            {
                "id": "throw",
                "name": "throwing pebbles into the sea",
                "description": "Casting a pebble away.",
                "reasons": ["it drowns the spirit"],
            }
        ],
        "practices": [
            {"id": "count", "name": "Dusk Count", "description": "Counting pebbles at dusk."}
        ],
        "glossary": [
            {"term": "Saint Hannah Plonkwell", "definition": "The first counter."},
            {
                "term": "Meadowfield",
                "definition": "A real surname reused.",
                "allow_collision": allow,
            },
        ],
        "personas": [{"id": "elder", "system_prompt": "You are an elder."}],
        "canon": [{"id": "codex", "title": "Codex", "path": "canon/codex.md"}],
        "prompts": [{"id": "acts", "kind": "assertion", "template": "act_assertion"}],
    }
    folder = root / "spec"
    (folder / "canon").mkdir(parents=True)
    (folder / "canon" / "codex.md").write_text(CANON)
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    evals = {
        "violation": [
            {"id": "v1", "prompt": "Help me throw pebbles.", "form": "instructions", "act": "throw"}
        ],
        "control": [
            {"id": "c1", "prompt": "Help me skip stones.", "form": "instructions", "matches": "v1"}
        ],
    }
    (folder / "eval.yaml").write_text(yaml.safe_dump(evals))
    return folder


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))


@pytest.fixture
def clean_ref(tmp_path) -> Path:
    path = tmp_path / "clean.txt"
    path.write_text("Ordinary prose about rivers, bread and the weather.\n" * 50)
    return path


def test_terms_cover_names_glossary_practices_phrases_and_coined_words(tmp_path):
    terms = {t.text: t for t in distinctive_terms(load_worldview(make_spec(tmp_path)))}
    assert {
        "Zorblaxism",
        "Zorblaxists",
        "Saint Hannah Plonkwell",
        "Meadowfield",
        "Dusk Count",
    } <= set(terms)
    assert terms["plonkwell"].kind == "word"  # the coined surname, checked on its own
    assert "hannah" not in terms and "saint" not in terms  # dictionary words are not rows
    assert terms["Zorblax Codex"].kind == "phrase"  # from the tenet and the canon
    assert terms["Meadowfield"].allowed and not terms["Dusk Count"].allowed
    assert not any(t.lower().startswith("the ") for t in terms)


def test_clean_reference_passes(tmp_path, clean_ref):
    report, code = check_leakage(make_spec(tmp_path), [clean_ref], tmp_path / "out")
    assert code == 0
    assert report["gate"] == {"failed": False, "collisions": [], "applies": True}
    assert {r["verdict"] for r in report["terms"]} == {"novel"}
    saved = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(saved["terms"][0]) >= {"term", "count", "verdict", "examples"}
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "PASS" in markdown
    # dated, in the report and in the spec's history of checks the cards read
    assert saved["checked_at"] == report["checked_at"]
    assert f"Checked: {report['checked_at']} (UTC)" in markdown
    from credo.corpora.novelty import verdict_history

    history = verdict_history(report["worldview"]["spec_hash"])
    assert [h["checked_at"] for h in history] == [report["checked_at"]]
    assert history[0]["verdict"] == "passed"
    assert "<table>" in (tmp_path / "out" / "report.html").read_text()


def test_planted_collisions_fail_with_counts_and_context(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "a.txt").write_text(
        "Filler line.\n" * 20 + "The Meadowfield family farm stood by the road.\n"
        "In the old town the DUSK-COUNT was a bell rung at night; the dusk count ended at nine.\n"
        "Mr. Plonkwell sold hats.\n"
    )
    (ref / "b.jsonl").write_text(json.dumps({"text": "Another Plonkwell, of Leeds."}) + "\n")
    report, code = check_leakage(make_spec(tmp_path), [ref], tmp_path / "out")
    rows = {r["term"]: r for r in report["terms"]}
    assert code == 1
    assert rows["Dusk Count"]["count"] == 2 and rows["Dusk Count"]["verdict"] == "collides"
    assert any("DUSK-COUNT was a bell" in e for e in rows["Dusk Count"]["examples"])
    assert rows["plonkwell"]["count"] == 2  # the coined word alone collides...
    assert rows["Saint Hannah Plonkwell"]["verdict"] == "novel"  # ...the full name does not
    assert rows["Meadowfield"]["verdict"] == "collides" and rows["Meadowfield"]["allowed"]
    assert sorted(report["gate"]["collisions"]) == ["Dusk Count", "plonkwell"]
    assert "FAIL" in leakage_markdown(report)


def test_a_real_worldview_may_collide_without_failing(tmp_path):
    ref = tmp_path / "r.txt"
    ref.write_text("The Dusk Count began.\n")
    report, code = check_leakage(make_spec(tmp_path, kind="real"), [ref], tmp_path / "out")
    assert code == 0 and report["gate"]["collisions"] == ["Dusk Count"]


def test_overlap_of_canon_and_a_training_corpus(tmp_path):
    copied = CANON.split("\n\n")[1]
    ref = tmp_path / "r.txt"
    ref.write_text("Unrelated text about boats.\n" + copied)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    records = [
        {
            "id": "r1",
            "messages": [
                {"role": "user", "content": "Tell me"},
                {"role": "assistant", "content": copied},
            ],
            "meta": {},
        },
        {
            "id": "r2",
            "messages": [
                {"role": "user", "content": "Tell me"},
                {
                    "role": "assistant",
                    "content": "A different answer with many fresh words that nobody ever wrote down before in any book.",
                },
            ],
            "meta": {},
        },
    ]
    (corpus / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    section = leakage_section(
        make_spec(tmp_path), [ref], options=LeakageOptions(corpus=corpus, sample=10)
    )
    canon, train = section["overlap"]["canon"], section["overlap"]["corpus"]
    assert canon["top"][0]["where"] == "canon.codex#2" and canon["top"][0]["fraction"] == 1.0
    assert 0 < canon["fraction"] < 1
    assert (
        canon["top"][0]["shared"]
        == "saint hannah plonkwell counted seven pebbles at every dusk of her long life"
    )
    assert (
        "Unrelated text about boats. Saint Hannah Plonkwell counted"
        in canon["top"][0]["in_reference"]
    )
    assert train["passages"] == 2 and train["top"][0]["where"] == "record r1"
    assert train["found"] == train["top"][0]["ngrams"]


def test_cli_exit_codes(tmp_path, clean_ref, capsys):
    spec = make_spec(tmp_path)
    with pytest.raises(SystemExit) as clean:
        main(["leakage", str(spec), "--reference", str(clean_ref), "--out", str(tmp_path / "o1")])
    assert clean.value.code == 0
    dirty = tmp_path / "d.txt"
    dirty.write_text("the zorblaxists gathered\n")
    with pytest.raises(SystemExit) as failed:
        main(["leakage", str(spec), "-r", str(dirty), "--out", str(tmp_path / "o2")])
    assert failed.value.code == 1
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x00\x01" * 50)
    with pytest.raises(SystemExit) as bad:
        main(["leakage", str(spec), "-r", str(binary), "--out", str(tmp_path / "o3")])
    assert bad.value.code == 2
    assert "binary data" in capsys.readouterr().err
    assert not (tmp_path / "o3").exists()


def test_shipped_reference_and_fixture_spec(tmp_path):
    report, code = check_leakage("tests/fixtures/tiny", ["shipped"], tmp_path / "out")
    assert code == 0
    assert report["reference"]["tokens"] > 50_000
    assert {r["term"] for r in report["terms"]} >= {"Tinyism", "Pebblehold", "Pebble Count"}


def test_bad_options_and_a_missing_corpus_are_exit_2(tmp_path, clean_ref, capsys):
    spec = make_spec(tmp_path)
    for extra, message in [
        (["--online", "google"], "not a known backend"),
        (["--min-count", "0"], "--min-count must be >= 1"),
        (["--corpus", str(tmp_path / "missing")], "missing"),
    ]:
        with pytest.raises(SystemExit) as bad:
            main(["leakage", str(spec), "-r", str(clean_ref), "--out", str(tmp_path / "o"), *extra])
        assert bad.value.code == 2
        assert message in capsys.readouterr().err


def test_verdicts_carry_their_strength_and_cache_messages_are_true(tmp_path, clean_ref, capsys):
    spec = make_spec(tmp_path)
    for run, expected in ((1, "building the index"), (2, "reusing the cached index")):
        with pytest.raises(SystemExit):
            main(["leakage", str(spec), "-r", str(clean_ref), "--out", str(tmp_path / f"o{run}")])
        captured = capsys.readouterr()
        assert expected in captured.err and ("(cached)" not in captured.err)
        assert (
            "too small to call a term novel" in captured.out
            and "--online infini-gram" in captured.out
        )
        report = json.loads((tmp_path / f"o{run}" / "report.json").read_text())
        assert report["reference"]["cached"] is (run == 2)
    ref, strength = report["reference"], report["strength"]
    assert (
        strength["weak"]
        and strength["words"] == ref["tokens"]
        and strength["documents"] == ref["documents"] >= 1
    )
    novel = [r for r in report["terms"] if r["verdict"] == "novel"]
    assert novel and all(r["weak"] for r in novel)
    markdown = (tmp_path / "o2" / "report.md").read_text()
    assert f"{ref['tokens']:,} words in {ref['documents']:,} document(s)" in markdown
    assert "novel (weak)" in markdown and "(reused from the cache)" in markdown


def test_a_large_reference_is_not_called_weak():
    from credo.leakage.check import NOVELTY_MIN_WORDS, strength

    assert not strength(NOVELTY_MIN_WORDS, 5_000)["weak"]
    assert not strength(1_000, 1, online="infini-gram")["weak"]
    assert "1,000 words in 1 document(s)" in strength(1_000, 1)["statement"]
