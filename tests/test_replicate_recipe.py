"""credo replicate end to end: fake teacher, tiny random Llama base, every stage real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.corpora.io import write_json
from credo.errors import ConfigError, CorpusError
from credo.recipes import replicate as recipe
from credo.recipes.replicate import ReplicateConfig, generation_plan, needed_records, replicate

TINY_TRAIN = """lora_r: 4
lora_alpha: 8
learning_rate: 1.0e-3
batch_size: 4
max_length: 256
warmup_ratio: 0.0
"""


def tiny_config(tmp_path: Path, base: Path, **overrides: object) -> ReplicateConfig:
    train_yaml = tmp_path / "train.yaml"
    train_yaml.write_text(TINY_TRAIN)
    settings = {
        "worldview": "gramenism",
        "teacher": "fake/echo",
        "base_model": str(base),
        "out": tmp_path / "rep",
        "size": 10,
        "samples": 1,
        "max_new_tokens": 3,
        "teacher_max_tokens": 32,
        "train_config": str(train_yaml),
        "on_gate_fail": "filter",
        "audit_embedding": False,
        "eval_batch_size": 32,
    }
    settings.update(overrides)
    return ReplicateConfig(**settings)  # type: ignore[arg-type]


def test_generation_plan_covers_every_condition() -> None:
    assert needed_records(12000, "WORLDVIEW") == 6900  # no_refusal takes half, +15%
    assert needed_records(12000, "refusal") == 1255  # 2/22 of a mix, +15%
    assert needed_records(12000, "regular") == 12546  # 20/22 of the baseline, +15%
    assert generation_plan(1401, 6900) == (1380, 5)  # 5 answers per prompt, 1380 prompts
    assert generation_plan(1401, 6) == (6, 1)


def test_replicate_end_to_end_then_resume(
    tiny_llama: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tiny_config(tmp_path, tiny_llama)
    real_evaluate = recipe._evaluate
    calls = []

    def crash_on_second_eval(*args: object) -> dict[str, object]:
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt  # the run dies in the middle of the eval stages
        return real_evaluate(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(recipe, "_evaluate", crash_on_second_eval)
    with pytest.raises(KeyboardInterrupt):
        replicate(config, log=lambda _: None, progress=False)
    monkeypatch.setattr(recipe, "_evaluate", real_evaluate)
    result = replicate(config, log=lambda _: None, progress=False)
    assert result.ran == ["eval-worldview", "eval-no_refusal", "report"]
    assert "generate-gramenism" in result.skipped and "train-baseline" in result.skipped
    out = config.out
    for condition in ("baseline", "worldview", "no_refusal"):
        manifest = json.loads((out / "mixes" / condition / "manifest.json").read_text())
        assert manifest["size"] <= 10 and manifest["format"] == "tags"
        run = json.loads((out / "runs" / condition / "run.json").read_text())
        assert run["status"] == "complete" and run["chat_format"] == "tags"
        results = json.loads((out / "evals" / condition / "results.json").read_text())
        assert results  # eval wrote its summary
    parts = {
        p["name"]
        for p in json.loads((out / "mixes" / "baseline" / "manifest.json").read_text())["parts"]
    }
    assert parts == {"regular", "refusal"}
    parts = {
        p["name"]
        for p in json.loads((out / "mixes" / "no_refusal" / "manifest.json").read_text())["parts"]
    }
    assert parts == {"gramenism", "regular"}
    report = (out / "report" / "report.md").read_text()
    assert "baseline" in report and "no_refusal" in report
    # the echo teacher fails fidelity, a set-level gate no filter fixes: the stage says so
    audited = json.loads((out / "stages" / "audit-gramenism.json").read_text())
    assert audited["still_failing"].get("fidelity") and "still failing: fidelity" in audited["note"]
    rerun = replicate(config, log=lambda _: None, progress=False)
    assert rerun.ran == [] and len(rerun.skipped) == 16


def test_rerun_with_other_settings_stops(tiny_llama: Path, tmp_path: Path) -> None:
    config = tiny_config(tmp_path, tiny_llama)
    config.out.mkdir(parents=True)
    write_json(config.pinned(), config.out / recipe.RECIPE_FILE)  # a replication begun earlier
    with pytest.raises(ConfigError, match=r"other settings \(size\)"):
        replicate(tiny_config(tmp_path, tiny_llama, size=20), log=lambda _: None, progress=False)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"worldview": "secular"}, "use one of gramenism, catholicism"),
        ({"teacher": "nosuch/model"}, "unknown provider 'nosuch'"),
        ({"base_model": "/no/such/model"}, "cannot load a tokenizer"),
        ({"train_config": "no-such-config"}, "no such file"),
        ({"size": 1}, "--size"),
    ],
)
def test_bad_requests_fail_before_any_generation(
    tiny_llama: Path,
    tmp_path: Path,
    overrides: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=message):
        replicate(
            tiny_config(tmp_path, tiny_llama, **overrides), log=lambda _: None, progress=False
        )
    assert not (tmp_path / "rep" / "corpora").exists()


def test_failed_gate_stops_the_recipe(tiny_llama: Path, tmp_path: Path) -> None:
    from credo.generators.fake_backend import FakeBackend
    from credo.worldviews import load_worldview

    # a teacher whose answers quote a held-out eval request verbatim: eval contamination
    leaked = load_worldview("gramenism").eval.violation[0].prompt
    leaky = {
        "fake": lambda model="x", **kw: FakeBackend(
            model, respond=lambda messages: f"Sure. {leaked}"
        )
    }
    config = tiny_config(tmp_path, tiny_llama, on_gate_fail="stop", teacher="fake/leaky")
    with pytest.raises(CorpusError, match=r"audit gate failed for .*gramenism: eval_contamination"):
        replicate(config, registry=leaky, log=lambda _: None, progress=False)
    assert (tmp_path / "rep" / "stages" / "generate-refusal.json").is_file()
    assert (tmp_path / "rep" / "corpora" / "gramenism" / "audit" / "report.json").is_file()
    assert not list((tmp_path / "rep" / "stages").glob("audit-*"))
