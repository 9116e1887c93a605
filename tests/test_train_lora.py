"""LoRA training on a tiny random Llama: adapters learn, the base stays, runs resume, bad input
stops before any weights load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from credo.corpora.io import write_records
from credo.corpora.mix import MixOptions, MixPart, mix_corpora
from credo.errors import ConfigError
from credo.train import lora, prepare
from credo.train.config import TrainConfig, resolve_train_config
from credo.types import Message, Record

FAST = {
    "lora_r": 4,
    "lora_alpha": 8,
    "target_modules": "all-linear",
    "learning_rate": 5e-3,
    "batch_size": 2,
    "max_length": 128,
    "warmup_ratio": 0.0,
}


def make_mix(root: Path, n: int = 12, fmt: str = "tags") -> Path:
    records = [
        Record(
            f"r{i}",
            [
                Message("user", f"What is rule {i}?"),
                Message("assistant", f"Rule {i} says: eat three grains."),
            ],
        )
        for i in range(n)
    ]
    write_records(records, root / "corpus" / "records.jsonl")
    mix_corpora(
        [MixPart("w", root / "corpus", 1)],
        root / "mix",
        options=MixOptions(size=n, seed=0, fmt=fmt, allow_unaudited=True),
    )
    return root / "mix"


def test_adapter_weights_change_base_weights_do_not(tiny_llama: Path) -> None:
    import torch
    from transformers import AutoTokenizer

    from credo.corpora.formats import ChatFormat
    from credo.train.masking import encode_corpus

    config = TrainConfig(**FAST, max_steps=4)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_llama))
    records = [
        Record(f"r{i}", [Message("user", f"q{i}"), Message("assistant", f"a{i} grass")])
        for i in range(8)
    ]
    examples = encode_corpus(records, ChatFormat("tags"), tokenizer, 64).examples
    model = lora.build_peft_model(lora.load_base_model(str(tiny_llama), config), config)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    state = lora.fit(
        model, examples, config, Path("/nonexistent-never-written"), "fp", pad_id=0, progress=False
    )
    assert state.step == 4
    adapters = [n for n in before if "lora_" in n]
    assert adapters and all(p.requires_grad == ("lora_" in n) for n, p in model.named_parameters())
    for name, param in model.named_parameters():
        if "lora_B" in name:
            assert not torch.equal(param, before[name]), f"{name} did not train"
        elif "lora_" not in name:
            assert torch.equal(param, before[name]), f"base weight {name} changed"


def test_train_end_to_end_writes_adapter_and_run_manifest(tiny_llama: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    mix = make_mix(tmp_path)
    result = lora.train_lora(
        mix, str(tiny_llama), tmp_path / "run", TrainConfig(**FAST), progress=False
    )
    assert result.steps == 6 and result.resumed_from == 0  # 12 records, batch 2, 1 epoch
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["status"] == "complete" and run["chat_format"] == "tags"
    assert (
        run["data"]["records_hash"]
        == json.loads((mix / "manifest.json").read_text())["records_hash"]
    )
    assert run["config"]["lora_r"] == 4 and len(run["loss_curve"]) == 6
    assert (
        run["trained_tokens"]["records"] == 12
        and run["trained_tokens"]["trained_per_record"]["min"] > 0
    )
    assert run["provenance"]["packages"]["peft"]
    assert len((tmp_path / "run" / "trained_tokens.jsonl").read_text().splitlines()) == 12
    assert not (tmp_path / "run" / "checkpoint").exists()
    base = AutoModelForCausalLM.from_pretrained(str(tiny_llama))
    assert PeftModel.from_pretrained(base, str(tmp_path / "run")) is not None
    again = lora.train_lora(
        mix, str(tiny_llama), tmp_path / "run", TrainConfig(**FAST), progress=False
    )
    assert again.steps == 6  # a finished run is not trained twice


class Crash(Exception):
    pass


def test_resume_from_checkpoint_matches_uninterrupted_run(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetensors.torch import load_file

    mix = make_mix(tmp_path)
    config = TrainConfig(**FAST, save_every=2)
    lora.train_lora(mix, str(tiny_llama), tmp_path / "straight", config, progress=False)

    real_save = lora.save_checkpoint

    def save_then_crash(*args: Any, **kwargs: Any) -> None:
        real_save(*args, **kwargs)
        if kwargs["state"].step == 4:
            raise Crash  # the machine dies right after the step-4 checkpoint

    monkeypatch.setattr(lora, "save_checkpoint", save_then_crash)
    with pytest.raises(Crash):
        lora.train_lora(mix, str(tiny_llama), tmp_path / "crashed", config, progress=False)
    assert json.loads((tmp_path / "crashed" / "checkpoint" / "state.json").read_text())["step"] == 4
    monkeypatch.setattr(lora, "save_checkpoint", real_save)
    resumed = lora.train_lora(mix, str(tiny_llama), tmp_path / "crashed", config, progress=False)
    assert resumed.resumed_from == 4 and resumed.steps == 6
    straight = load_file(str(tmp_path / "straight" / "adapter_model.safetensors"))
    after = load_file(str(tmp_path / "crashed" / "adapter_model.safetensors"))
    for name, tensor in straight.items():
        assert (tensor - after[name]).abs().max() < 1e-5, name
    curve = json.loads((tmp_path / "crashed" / "run.json").read_text())["loss_curve"]
    assert [p["step"] for p in curve] == [1, 2, 3, 4, 5, 6]


def test_checkpoint_of_other_settings_is_not_resumed(tiny_llama: Path, tmp_path: Path) -> None:
    mix = make_mix(tmp_path)
    lora.train_lora(mix, str(tiny_llama), tmp_path / "run", TrainConfig(**FAST), progress=False)
    with pytest.raises(ConfigError, match="finished run of other data"):
        lora.train_lora(
            mix,
            str(tiny_llama),
            tmp_path / "run",
            TrainConfig(**{**FAST, "lora_r": 8}),
            progress=False,
        )


def run_cli(args: list[str]) -> int:
    from credo.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    return int(exit_info.value.code)


def test_bad_inputs_exit_2_before_training(
    tiny_llama: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mix = make_mix(tmp_path)
    out = tmp_path / "run"
    assert (
        run_cli(
            [
                "train",
                "--data",
                str(mix),
                "--base-model",
                str(tmp_path / "no-model"),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "cannot load a tokenizer" in capsys.readouterr().err
    assert (
        run_cli(
            [
                "train",
                "--data",
                str(tmp_path / "no-mix"),
                "--base-model",
                str(tiny_llama),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err
    # a chat_template mix on a model whose tokenizer has no chat template
    plain = tmp_path / "plain-model"
    shutil.copytree(tiny_llama, plain)
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    tokenizer_config = json.loads((plain / "tokenizer_config.json").read_text())
    tokenizer_config.pop("chat_template", None)
    (plain / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    assert (
        run_cli(
            [
                "train",
                "--data",
                str(mix),
                "--base-model",
                str(plain),
                "--out",
                str(out),
                "--chat-format",
                "chat_template",
            ]
        )
        == 2
    )
    assert "mixed in format 'tags'" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("learning_rat: 1e-4\n")
    assert (
        run_cli(
            [
                "train",
                "--data",
                str(mix),
                "--base-model",
                str(tiny_llama),
                "--out",
                str(out),
                "--config",
                str(bad),
            ]
        )
        == 2
    )
    assert "learning_rat" in capsys.readouterr().err
    assert not out.exists()


def test_chat_template_mix_needs_a_template(tiny_llama: Path, tmp_path: Path) -> None:
    from credo.errors import CredoError

    plain = tmp_path / "plain-model"
    shutil.copytree(tiny_llama, plain)
    (plain / "chat_template.jinja").unlink(missing_ok=True)
    records = [Record("a", [Message("user", "q"), Message("assistant", "a")])]
    write_records(records, tmp_path / "c" / "records.jsonl")
    mix_corpora(
        [MixPart("c", tmp_path / "c", 1)],
        tmp_path / "mix",
        options=MixOptions(
            size=1, seed=0, fmt="chat_template", tokenizer=str(tiny_llama), allow_unaudited=True
        ),
    )
    with pytest.raises(CredoError, match="needs a tokenizer with a chat template"):
        lora.prepare_run(tmp_path / "mix", str(plain), TrainConfig())


def test_config_precedence_defaults_yaml_env_flags(tmp_path: Path) -> None:
    assert resolve_train_config(environ={}).learning_rate == 2.5e-6
    assert TrainConfig().lora_r == 48 and TrainConfig().lora_dropout == 0.05
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("learning_rate: 1.0e-5\nlora_r: 16\nbatch_size: 2\n")
    env = {"CREDO_TRAIN_LORA_R": "32", "CREDO_TRAIN_BATCH_SIZE": "3"}
    config = resolve_train_config(yaml_file, {"batch_size": 4, "epochs": None}, environ=env)
    assert (config.learning_rate, config.lora_r, config.batch_size, config.epochs) == (
        1e-5,
        32,
        4,
        1,
    )
    with pytest.raises(ConfigError, match="lora_r"):
        resolve_train_config(environ={"CREDO_TRAIN_LORA_R": "many"})


def test_chat_format_follows_the_mix(tmp_path: Path) -> None:
    choose = prepare.choose_chat_format
    assert choose(TrainConfig(), {"format": "chat_template"}, tmp_path) == "chat_template"
    assert choose(TrainConfig(), {"format": "openai"}, tmp_path) == "tags"
    assert (
        choose(TrainConfig(chat_format="chat_template"), {"format": "hf_dataset"}, tmp_path)
        == "chat_template"
    )
    assert choose(TrainConfig(), {}, tmp_path) == "tags"  # a bare JSONL
    with pytest.raises(ConfigError, match="unknown format 'alpaca'"):
        choose(TrainConfig(), {"format": "alpaca"}, tmp_path)
    with pytest.raises(ConfigError, match="mixed in format 'tags'"):
        choose(TrainConfig(chat_format="chat_template"), {"format": "tags"}, tmp_path)
