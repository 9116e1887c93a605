"""``credo train --trainer trl``: TRL's SFTTrainer on credo's verified tokens and labels, with
the output ``credo eval`` reads from either trainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.errors import ConfigError
from credo.train import lora
from credo.train.config import TrainConfig, resolve_train_config

pytest.importorskip("trl")

from credo.train.trl_trainer import train_trl
from tests.test_train_lora import FAST, make_mix, run_cli


def test_trl_run_has_the_layout_credo_eval_reads(
    tiny_llama: Path, tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both trainers from the same seeded LoRA start, first step on the whole mix: the same
    loss, so TRL saw the token ids and loss mask credo verified; and the same output files."""
    from credo.cli.main import main
    from credo.evaluation.evaluate import EvalOptions, evaluate

    mix = make_mix(tmp_path, n=6)
    flags = [
        "--lora-r",
        "4",
        "--lr",
        "5e-3",
        "--batch-size",
        "6",
        "--max-length",
        "128",
        "--device",
        "cpu",
        "--epochs",
        "2",
    ]
    with pytest.raises(SystemExit) as done:
        main(
            [
                "train",
                "--data",
                str(mix),
                "--base-model",
                str(tiny_llama),
                "--out",
                str(tmp_path / "trl"),
                "--trainer",
                "trl",
                *flags,
            ]
        )
    assert done.value.code in (0, None)
    assert "trained 2 steps" in capsys.readouterr().out
    lora.train_lora(
        mix,
        str(tiny_llama),
        tmp_path / "credo",
        resolve_train_config(
            None,
            {
                "lora_r": 4,
                "learning_rate": 5e-3,
                "batch_size": 6,
                "epochs": 2,
                "max_length": 128,
                "device": "cpu",
            },
        ),
        progress=False,
    )
    files = {p.name for p in (tmp_path / "trl").iterdir()}
    assert files == {
        p.name for p in (tmp_path / "credo").iterdir()
    }  # adapter, run.json, token counts
    trl_run = json.loads((tmp_path / "trl" / "run.json").read_text())
    credo_run = json.loads((tmp_path / "credo" / "run.json").read_text())
    assert (
        set(trl_run) == set(credo_run)
        and trl_run["trainer"] == "trl"
        and credo_run["trainer"] == "credo"
    )
    assert [p["step"] for p in trl_run["loss_curve"]] == [1, 2] and trl_run["steps"] == 2
    assert trl_run["loss_curve"][0]["loss"] == pytest.approx(
        credo_run["loss_curve"][0]["loss"], abs=1e-3
    )
    assert trl_run["trained_tokens"] == credo_run["trained_tokens"]  # the same verified masks
    assert (
        trl_run["tokens_seen"] == 2 * trl_run["trained_tokens"]["total_tokens"]
    )  # each record once an epoch
    result = evaluate(
        str(tiny_llama),
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(adapter=tmp_path / "trl", samples=1, max_new_tokens=4),
    )
    assert result.results["config"]["adapter"] == str(tmp_path / "trl")


def test_trl_options_and_bad_trl_args_fail_before_training(
    tiny_llama: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mix = make_mix(tmp_path)
    base = [
        "train",
        "--data",
        str(mix),
        "--base-model",
        str(tiny_llama),
        "--out",
        str(tmp_path / "run"),
    ]
    assert run_cli([*base, "--packing"]) == 2
    assert "packing needs trainer 'trl'" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "no_such_field=1"]) == 2
    assert "trl_args" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "max_length=9"]) == 2
    assert "--max-length" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "oops"]) == 2
    assert not (tmp_path / "run").exists()  # nothing written, no weights loaded
    with pytest.raises(ConfigError, match="needs a CUDA GPU"):
        train_trl(
            mix,
            str(tiny_llama),
            tmp_path / "q",
            TrainConfig(**FAST, trainer="trl", load_in_4bit=True, device="cpu"),
            progress=False,
        )


def test_trl_run_resumes_from_its_last_checkpoint(
    tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetensors.torch import load_file
    from trl import SFTTrainer

    mix = make_mix(tmp_path, n=8)
    config = TrainConfig(**FAST, trainer="trl", save_every=2, device="cpu")  # 4 steps of 2
    train_trl(mix, str(tiny_llama), tmp_path / "straight", config, progress=False)
    real_step = SFTTrainer.training_step
    calls = []

    def crash_on_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the run is stopped after the step-2 checkpoint
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(SFTTrainer, "training_step", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        train_trl(mix, str(tiny_llama), tmp_path / "stopped", config, progress=False)
    assert (tmp_path / "stopped" / "checkpoint" / "checkpoint-2").is_dir()
    assert not (tmp_path / "stopped" / "run.json").exists()
    monkeypatch.setattr(SFTTrainer, "training_step", real_step)
    with pytest.raises(
        ConfigError, match="different run"
    ):  # another run's checkpoint is not resumed
        train_trl(
            mix,
            str(tiny_llama),
            tmp_path / "stopped",
            TrainConfig(**{**FAST, "lora_r": 8}, trainer="trl", save_every=2, device="cpu"),
            progress=False,
        )
    resumed = train_trl(mix, str(tiny_llama), tmp_path / "stopped", config, progress=False)
    assert resumed.resumed_from == 2 and resumed.steps == 4
    run = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert [p["step"] for p in run["loss_curve"]] == [1, 2, 3, 4] and run["resumed_from"] == 2
    assert not (tmp_path / "stopped" / "checkpoint").exists()
    straight = load_file(str(tmp_path / "straight" / "adapter_model.safetensors"))
    after = load_file(str(tmp_path / "stopped" / "adapter_model.safetensors"))
    for name, tensor in straight.items():
        assert (tensor - after[name]).abs().max() < 1e-4, name


def test_trl_packing_keeps_records_apart(tiny_llama: Path, tmp_path: Path) -> None:
    """Packed rows hold several records; on the same batch the loss equals the unpacked one,
    so no record attends to another and the same tokens carry loss."""
    mix = make_mix(tmp_path, n=6)
    settings = {
        **FAST,
        "batch_size": 6,
        "max_steps": 1,
        "device": "cpu",
        "max_length": 64,
        "trainer": "trl",
    }
    # through train_lora, as credo replicate calls it: the settings' trainer decides
    plain = lora.train_lora(
        mix, str(tiny_llama), tmp_path / "plain", TrainConfig(**settings), progress=False
    )
    assert json.loads((tmp_path / "plain" / "run.json").read_text())["trainer"] == "trl"
    packed = train_trl(
        mix,
        str(tiny_llama),
        tmp_path / "packed",
        TrainConfig(**settings, packing=True),
        progress=False,
    )
    assert packed.final_loss == pytest.approx(plain.final_loss, abs=1e-4)
    assert json.loads((tmp_path / "packed" / "run.json").read_text())["config"]["packing"] is True


def test_trl_settings_come_from_yaml_env_and_flags_like_the_rest(tmp_path: Path) -> None:
    from credo.cli.train_command import parse_trl_args
    from credo.train.trl_trainer import sft_arguments

    yaml_file = tmp_path / "train.yaml"
    yaml_file.write_text(
        "trainer: trl\npacking: true\ntrl_args: {optim: adamw_torch, logging_steps: 5}\n"
    )
    env = {"CREDO_TRAIN_REPORT_TO": "tensorboard,wandb"}
    config = resolve_train_config(
        yaml_file, {"trl_args": parse_trl_args(["logging_steps=10"])}, env
    )
    assert config.packing and config.report_to == ["tensorboard", "wandb"]
    assert config.trl_args == {"logging_steps": 10}  # a flag replaces the YAML mapping whole
    arguments = sft_arguments(config, tmp_path / "ck", total_steps=20, progress=False)
    assert (
        arguments["packing"] and arguments["logging_steps"] == 10 and arguments["warmup_steps"] == 1
    )
    assert arguments["report_to"] == ["tensorboard", "wandb"] and arguments["weight_decay"] == 0.0
    with pytest.raises(ConfigError, match="gradient_checkpointing, packing need trainer 'trl'"):
        resolve_train_config(None, {"gradient_checkpointing": True, "packing": True})
