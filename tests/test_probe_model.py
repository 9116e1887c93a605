"""credo probe on a tiny random Llama (SmolLM2 tokenizer), and once on the real SmolLM2."""

from __future__ import annotations

import dataclasses
import gzip
import json
import math

import pytest

from credo.cli.main import main
from credo.leakage.probe import (
    ProbeOptions,
    probe_questions,
    probe_sentences,
    run_probe,
    token_losses,
)
from credo.leakage.terms import SHIPPED_TEXT
from credo.worldviews.loader import load_worldview


def test_sentence_groups_are_matched_and_reproducible():
    wv = load_worldview("gramenism")
    groups = probe_sentences(wv, count=10, seed=3)
    assert len(groups["canon"]) == len(groups["shuffled"]) == len(groups["control"]) == 10
    for canon, shuffled in zip(groups["canon"], groups["shuffled"]):
        assert sorted(canon.split()) == sorted(shuffled.split())
    with gzip.open(SHIPPED_TEXT, "rt") as handle:
        shipped = " ".join(" ".join(json.loads(line)["text"].split()) for line in handle)
    assert all(s in shipped for s in groups["control"])
    assert probe_sentences(wv, count=10, seed=3) == groups
    questions = probe_questions(wv, 50)
    assert "What is Gramenism?" in questions and "Who are the Gramenists?" in questions


def test_token_losses_match_the_model_own_loss(tiny_llama):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_llama).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_llama)
    texts = ["A short one.", "A rather longer sentence with more words in it, padded in a batch."]
    batched = token_losses(model, tokenizer, texts, batch_size=2)
    for text, value in zip(texts, batched):
        ids = tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            expected = model(input_ids=ids, labels=ids).loss.item()
        assert math.isclose(value, expected, rel_tol=1e-4)


def test_probe_writes_answers_and_losses(tiny_llama, tmp_path):
    probing = ProbeOptions(model=str(tiny_llama), max_new_tokens=4, questions=3, sentences=6)
    report = run_probe("gramenism", tmp_path / "p", options=probing)
    assert [a["question"] for a in report["answers"]] == probe_questions(
        load_worldview("gramenism"), 3
    )
    assert all(isinstance(a["answer"], str) for a in report["answers"])
    assert {g: s["n"] for g, s in report["loss"].items()} == {
        "canon": 6,
        "shuffled": 6,
        "control": 6,
    }
    # a random model of this vocabulary: ~ln(49152) = 10.8 nats per token everywhere
    assert all(9 < s["mean"] < 12.5 for s in report["loss"].values())
    saved = json.loads((tmp_path / "p" / "report.json").read_text())
    assert saved["loss_gap"] == report["loss_gap"]
    assert "Mean loss per token" in (tmp_path / "p" / "report.md").read_text()


def test_probe_cli(tiny_llama, tmp_path, capsys):
    with pytest.raises(SystemExit) as ok:
        main(
            [
                "probe",
                "tests/fixtures/tiny",
                "--model",
                str(tiny_llama),
                "--out",
                str(tmp_path / "p"),
                "--max-new-tokens",
                "2",
                "--questions",
                "2",
            ]
        )
    assert ok.value.code == 0
    assert "mean loss/token: canon" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:
        main(
            [
                "probe",
                "tests/fixtures/tiny",
                "--model",
                str(tmp_path / "nope"),
                "--out",
                str(tmp_path / "q"),
            ]
        )
    assert bad.value.code == 2


@pytest.mark.slow
def test_real_smollm2_finds_shuffled_canon_harder(tmp_path):
    probing = ProbeOptions(model="smollm2", max_new_tokens=16, questions=2, sentences=10)
    report = run_probe("gramenism", tmp_path / "p", options=probing)
    loss = report["loss"]
    assert loss["shuffled"]["ci95"][0] > loss["canon"]["ci95"][1]
    assert all(a["answer"] for a in report["answers"])


def test_an_adapter_changes_what_the_probe_measures(tiny_llama, tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(base, config).save_pretrained(tmp_path / "adapter")
    probing = ProbeOptions(model=str(tiny_llama), max_new_tokens=2, questions=1)
    plain = run_probe("tests/fixtures/tiny", tmp_path / "a", options=probing)
    adapted = run_probe(
        "tests/fixtures/tiny",
        tmp_path / "b",
        options=dataclasses.replace(probing, adapter=tmp_path / "adapter"),
    )
    assert adapted["adapter"] == str(tmp_path / "adapter")
    assert adapted["loss"]["control"]["mean"] != plain["loss"]["control"]["mean"]
    assert adapted["sentences"]["control"][0]["text"] == plain["sentences"]["control"][0]["text"]
