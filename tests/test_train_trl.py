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

from credo.train.trl_trainer import train_trl  # noqa: E402
from tests.test_train_lora import FAST, make_mix, run_cli  # noqa: E402


def test_trl_run_has_the_layout_credo_eval_reads(tiny_llama: Path, tiny_spec: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from credo.train.evaluate import evaluate

    mix = make_mix(tmp_path)
    flags = ["--lora-r", "4", "--lr", "5e-3", "--batch-size", "2", "--max-length", "128", "--device", "cpu"]
    with pytest.raises(SystemExit) as done:
        from credo.cli.main import main

        main(["train", "--data", str(mix), "--base-model", str(tiny_llama), "--out", str(tmp_path / "trl"),
              "--trainer", "trl", "--max-steps", "3", *flags])
    assert done.value.code in (0, None)
    assert "trained 3 steps" in capsys.readouterr().out
    lora.train_lora(mix, str(tiny_llama), tmp_path / "credo",
                    resolve_train_config(None, {"lora_r": 4, "learning_rate": 5e-3, "batch_size": 2,
                                                "max_length": 128, "device": "cpu", "max_steps": 3}),
                    progress=False)
    files = {p.name for p in (tmp_path / "trl").iterdir()}
    assert files == {p.name for p in (tmp_path / "credo").iterdir()}  # adapter, run.json, token counts
    trl_run = json.loads((tmp_path / "trl" / "run.json").read_text())
    credo_run = json.loads((tmp_path / "credo" / "run.json").read_text())
    assert set(trl_run) == set(credo_run) and trl_run["trainer"] == "trl" and credo_run["trainer"] == "credo"
    assert [p["step"] for p in trl_run["loss_curve"]] == [1, 2, 3] and trl_run["steps"] == 3
    assert trl_run["trained_tokens"] == credo_run["trained_tokens"]  # the same verified masks
    result = evaluate(str(tiny_llama), [str(tiny_spec)], tmp_path / "ev", adapter=tmp_path / "trl",
                      samples=1, max_new_tokens=4)
    assert result.results["config"]["adapter"] == str(tmp_path / "trl")


def test_trl_trains_the_same_tokens_and_labels_as_credo(tiny_llama: Path, tmp_path: Path) -> None:
    """One step on the whole mix from the same seeded LoRA start: the same loss, so TRL saw
    the same token ids and the same loss mask credo verified."""
    mix = make_mix(tmp_path, n=6)
    settings = {**FAST, "batch_size": 6, "max_steps": 1, "device": "cpu"}
    ours = lora.train_lora(mix, str(tiny_llama), tmp_path / "credo", TrainConfig(**settings), progress=False)
    theirs = train_trl(mix, str(tiny_llama), tmp_path / "trl", TrainConfig(**settings, trainer="trl"),
                       progress=False)
    assert theirs.final_loss == pytest.approx(ours.final_loss, abs=1e-3)
    run = json.loads((tmp_path / "trl" / "run.json").read_text())
    assert run["tokens_seen"] == run["trained_tokens"]["total_tokens"]  # every record, once, unpadded


def test_trl_options_and_bad_trl_args_fail_before_training(tiny_llama: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    mix = make_mix(tmp_path)
    base = ["train", "--data", str(mix), "--base-model", str(tiny_llama), "--out", str(tmp_path / "run")]
    assert run_cli([*base, "--packing"]) == 2
    assert "packing need trainer 'trl'" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "no_such_field=1"]) == 2
    assert "trl_args" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "max_length=9"]) == 2
    assert "--max-length" in capsys.readouterr().err
    assert run_cli([*base, "--trainer", "trl", "--trl-arg", "oops"]) == 2
    assert not (tmp_path / "run").exists()  # nothing written, no weights loaded
    with pytest.raises(ConfigError, match="needs a CUDA GPU"):
        train_trl(mix, str(tiny_llama), tmp_path / "q", TrainConfig(**FAST, trainer="trl", load_in_4bit=True,
                                                                     device="cpu"), progress=False)
