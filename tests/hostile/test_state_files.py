"""Training state read back (``run.json``, a checkpoint's ``state.json``): every damaged
variant is one ConfigError naming the file and field, never a KeyError or a traceback. (The
other state files run through the command catalogue; these need a model to reach.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.errors import ConfigError
from credo.train.adapter import read_checkpoint_state
from credo.train.outcome import finished_run

GOOD = {"fingerprint": "f", "step": 2, "tokens_seen": 10, "loss_curve": [{"step": 1, "loss": 1.0}]}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"fingerprint": "f", "st', "not valid JSON"),
        ("", "empty"),
        ("[]", "a JSON object expected, not a list"),
        (json.dumps({**GOOD, "step": "2"}), "step: input should be a valid integer"),
        (json.dumps({**GOOD, "step": -1}), "step: input should be greater than or equal to 0"),
        (json.dumps({**GOOD, "loss_curve": [{"step": 1, "loss": "x"}]}), "loss_curve[0].loss"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "tokens_seen"}), "'tokens_seen'"),
        ("NaN", "NaN is not a number"),
    ],
)
def test_a_damaged_checkpoint_state_names_file_and_field(
    tmp_path: Path, text: str, says: str
) -> None:
    path = tmp_path / "checkpoint" / "state.json"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_checkpoint_state(path)
    message = str(caught.value)
    assert str(path) in message and says in message and "\n" not in message
    assert f"delete {path.parent}" in message  # and how to recover


@pytest.mark.parametrize(
    ("run", "says"),
    [
        ({"fingerprint": "x", "trained_tokens": {"trained_tokens": 3}}, "missing key 'steps'"),
        ({"fingerprint": "x", "steps": 1}, "missing key 'trained_tokens'"),
        ({"fingerprint": "x", "steps": 1, "trained_tokens": 3}, "trained_tokens"),
        ({"fingerprint": 5, "steps": 1}, "fingerprint"),
    ],
)
def test_a_damaged_run_file_is_named_before_a_rerun_trusts_it(
    tmp_path: Path, run: dict, says: str
) -> None:
    (tmp_path / "run.json").write_text(json.dumps(run), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        finished_run(tmp_path, "x")
    assert "run.json" in str(caught.value) and says in str(caught.value)
