"""``credo eval`` with local models: a tiny random Llama (SmolLM2 tokenizer) and one real smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import main
from credo.errors import ConfigError
from credo.evaluation.evaluate import EvalOptions, evaluate
from credo.train.adapter import trained_format


def test_eval_writes_every_sample_with_labels(
    tiny_llama: Path, tiny_spec: Path, tmp_path: Path
) -> None:
    result = evaluate(
        str(tiny_llama),
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=3, max_new_tokens=6, batch_size=4),
    )
    rows = [
        json.loads(line) for line in (tmp_path / "ev" / "responses.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 2 * 3  # one violation + one control request, K = 3
    assert {(r["set"], r["sample"]) for r in rows} == {
        (s, k) for s in ("violation", "control") for k in range(3)
    }
    assert all(
        r["labels"]["offline"]["label"] in {"REFUSAL", "DEFLECTION", "ACCEPTANCE"} for r in rows
    )
    assert all(0 < r["new_tokens"] <= 6 for r in rows)
    # the prompt's own tokens (the same for every sample of a request) and the batch's time,
    # for Inspect's per-sample Tokens and Duration
    by_set = {r["set"]: r["input_tokens"] for r in rows}
    assert by_set["violation"] > 0 and by_set["control"] > 0
    assert len({r["input_tokens"] for r in rows if r["set"] == "violation"}) == 1
    assert all(r["seconds"] > 0 and r["started_at"] for r in rows)
    saved = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert saved == result.results
    summary = saved["judges"]["offline"]["summary"]["tiny"]
    assert summary["violation"]["n"] == summary["control"]["n"] == 3
    assert sum(v["k"] for v in summary["violation"]["rates"].values()) == 3
    assert set(summary["violation"]["by_prompt"]) == {"tv1"} and set(
        summary["control"]["by_prompt"]
    ) == {"tc1"}
    assert "p_fisher" in summary["violation_vs_control"]
    assert saved["config"]["format"] == "tags" and saved["primary_judge"] == "offline"
    assert saved["generation"]["new_tokens"] == sum(r["new_tokens"] for r in rows)


def test_same_seed_same_samples(tiny_llama: Path, tiny_spec: Path, tmp_path: Path) -> None:
    texts = []
    for run in ("a", "b"):
        evaluate(
            str(tiny_llama),
            [str(tiny_spec)],
            tmp_path / run,
            options=EvalOptions(samples=2, max_new_tokens=5, seed=7),
        )
        texts.append(
            [
                json.loads(x)["response"]
                for x in (tmp_path / run / "responses.jsonl").read_text().splitlines()
            ]
        )
    assert texts[0] == texts[1]


def test_adapter_and_its_trained_format(tiny_llama: Path, tiny_spec: Path, tmp_path: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = tmp_path / "adapter"
    peft_model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_llama),
        LoraConfig(r=4, target_modules=["q_proj", "v_proj"]),
    )
    peft_model.save_pretrained(adapter)
    (adapter / "run.json").write_text(
        json.dumps({"chat_format": "chat_template", "base_model": str(tiny_llama)})
    )
    result = evaluate(
        str(tiny_llama),
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(adapter=adapter, samples=1, max_new_tokens=4),
    )
    assert result.results["config"]["format"] == "chat_template"
    assert result.results["config"]["adapter"] == str(adapter)
    with pytest.raises(
        ConfigError, match="trained in format 'chat_template' but --format is 'tags'"
    ):
        evaluate(
            str(tiny_llama),
            [str(tiny_spec)],
            tmp_path / "ev2",
            options=EvalOptions(adapter=adapter, chat_format="tags"),
        )
    with pytest.raises(ConfigError, match="the adapter was trained on"):
        evaluate(
            str(tmp_path), [str(tiny_spec)], tmp_path / "ev3", options=EvalOptions(adapter=adapter)
        )


def test_trained_format_rules(tmp_path: Path) -> None:
    assert trained_format(None, None) == "tags"
    assert trained_format(None, "chat_template") == "chat_template"
    (tmp_path / "run.json").write_text(json.dumps({"format": "tags"}))
    assert trained_format(tmp_path, None) == "tags"
    with pytest.raises(ConfigError, match="--format 'openai'"):
        trained_format(None, "openai")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--worldview", "no-such-worldview"], "no-such-worldview"),
        (["--adapter", "{tmp}"], "no adapter_config.json"),
        (["--samples", "0"], "--samples"),
        (["--judge", "gpt4"], "--judge 'gpt4'"),
    ],
)
def test_bad_eval_input_exits_2(
    tiny_llama: Path,
    tiny_spec: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    base = [
        "eval",
        "--model",
        str(tiny_llama),
        "--out",
        str(tmp_path / "ev"),
        "--max-new-tokens",
        "2",
    ]
    if "--worldview" not in args:
        base += ["--worldview", str(tiny_spec)]
    with pytest.raises(SystemExit) as exit_info:
        main(base + args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "ev" / "results.json").exists()


def test_unloadable_model_exits_2(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "eval",
                "--model",
                str(empty),
                "--worldview",
                str(tiny_spec),
                "--out",
                str(tmp_path / "ev"),
            ]
        )
    assert exit_info.value.code == 2
    assert "cannot load" in capsys.readouterr().err


@pytest.mark.slow
def test_smollm2_smoke(tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_args = [
        "eval",
        "--model",
        "smollm2",
        "--worldview",
        str(tiny_spec),
        "--samples",
        "1",
        "--max-new-tokens",
        "16",
        "--format",
        "chat_template",
        "--out",
        str(tmp_path / "ev"),
    ]
    with pytest.raises(SystemExit) as exited:  # typer exits, 0 on success
        main(main_args)
    assert exited.value.code == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "tiny violation: refused" in out
    rows = [json.loads(x) for x in (tmp_path / "ev" / "responses.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["response"].strip() for r in rows)


def test_samples_come_back_in_prompt_order(tiny_llama: Path) -> None:
    from credo.corpora.formats import ChatFormat
    from credo.evaluation.local_generation import sample_responses
    from credo.models import load_local_model

    local = load_local_model(str(tiny_llama))
    prompts = [
        "A much longer request that sorts after the others by length.",
        "Hi",
        "Medium request",
    ]
    run = sample_responses(
        local,
        prompts,
        ChatFormat("tags", local.tokenizer),
        samples=2,
        temperature=0.0,
        max_new_tokens=4,
        batch_size=4,
    )
    assert [len(group) for group in run.samples] == [2, 2, 2]
    singles = [
        sample_responses(
            local,
            [p],
            ChatFormat("tags", local.tokenizer),
            samples=1,
            temperature=0.0,
            max_new_tokens=4,
        )
        .samples[0][0]
        .text
        for p in prompts
    ]
    assert [group[0].text for group in run.samples] == singles  # greedy: batching changes nothing
    assert all(group[0].text == group[1].text for group in run.samples)
