"""``credo sweep``: config checks, content-addressed reuse, failed cells retried alone, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from credo.cli.main import main
from credo.errors import ConfigError
from credo.generators.fake_backend import FakeBackend
from credo.recipes.sweep import estimate, load_sweep_config, plan_sweep, run_sweep
from credo.recipes.sweep_report import fit_trend


def write_config(root: Path, tiny_spec: Path, base: str = "smollm2", **changes) -> Path:
    data = {
        "worldview": str(tiny_spec),
        "teacher": "fake/t",
        "base_model": base,
        "grid": {
            "condition": ["worldview", "baseline"],
            "form": ["qa", "documents"],
            "size": [8, 16],
            "learning_rate": [5e-3],
            "epochs": [1],
            "seed": [0],
        },
        "train": {
            "max_steps": 1,
            "batch_size": 4,
            "lora_r": 4,
            "lora_alpha": 8,
            "max_length": 256,
            "target_modules": "all-linear",
            "warmup_ratio": 0.0,
        },
        "eval": {"samples": 1, "limit": 1, "max_new_tokens": 4, "belief": True},
        "documents": {"types_per_fact": 2, "ideas_per_type": 2},
        "audit": {"embedding": False},
        "teacher_max_tokens": 64,
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = root / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"grid": {"condition": ["worldview", "vegan"]}}, "grid.condition 'vegan'"),
        ({"grid": {"dropout": [0.1]}}, "unknown key 'grid.dropout'"),
        ({"worldview": "atlantis"}, "worldview 'atlantis'"),
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"eval": {"sample": 2}}, "unknown key 'eval.sample'"),
        ({"train": {"learning_rate": 1e-4}}, "unknown key 'train.learning_rate'"),
        ({"grid": {"form": ["poetry"]}}, "grid.form 'poetry'"),
        ({"audit": {"on_gate_fail": "ignore"}}, "audit.on_gate_fail 'ignore'"),
        ({"audit": {"gates": "off"}}, "unknown key 'audit.gates'"),
    ],
)
def test_bad_config_names_the_key(
    tiny_spec: Path, tmp_path: Path, change: dict, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, tiny_spec, **change)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.").replace("(", r"\(")):
        load_sweep_config(path)
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(tmp_path / "out"), "--estimate"])
    assert exit_info.value.code == 2 and named in capsys.readouterr().err


def anchor_bomb(levels: int = 9) -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 values."""
    names = "abcdefghijklmnop"
    lines = ["estimate:", "  gpu:", f"    - &{names[0]} [" + ", ".join(["lol"] * 9) + "]"]
    for level in range(1, levels):
        lines.append(f"    - &{names[level]} [" + ", ".join([f"*{names[level - 1]}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"grid": {"size": [float("inf")]}}, "grid.size[0]: input should be a valid integer"),
        ({"grid": {"size": [1]}}, "grid.size[0]: input should be greater than or equal to 2"),
        (
            {"grid": {"learning_rate": [float("nan")]}},
            "grid.learning_rate[0]: input should be a finite number",
        ),
        ({"grid": {"epochs": [0]}}, "grid.epochs[0]: input should be greater than or equal to 1"),
        ({"grid": {"condition": [["a"]]}}, "grid.condition[0]: input should be a valid string"),
        ({"grid": {"size": []}}, "grid.size: list should have at least 1 item"),
        ({"eval": 5}, "eval: input should be a valid dictionary"),
        ({"eval": {"samples": 0}}, "eval.samples: input should be greater than or equal to 1"),
        ({"train": ["a"]}, "train: input should be a valid dictionary"),
        ({"teacher_max_tokens": "abc"}, "teacher_max_tokens: input should be a valid integer"),
        ({"concurrency": -7}, "concurrency: input should be greater than or equal to 1"),
        ({"concurrency": 0}, "concurrency: input should be greater than or equal to 1"),
        (
            {"estimate": {"train_tokens_per_second": 0}},
            "estimate.train_tokens_per_second: input should be greater than 0",
        ),
        (
            {"estimate": {"gpu_usd_per_hour": -1}},
            "estimate.gpu_usd_per_hour: input should be greater",
        ),
        (
            {"documents": {"near_dup": 2}},
            "documents.near_dup: input should be less than or equal to 1",
        ),
        (
            {"audit": {"embedding": "yes please"}},
            "audit.embedding: input should be a valid boolean",
        ),
        ({"grid": "big"}, "grid: input should be a valid dictionary"),
        ({"teacher": None}, "missing key 'teacher'"),
    ],
)
def test_every_value_is_typed_and_in_range(
    tiny_spec: Path, tmp_path: Path, change: dict, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, tiny_spec, **change)
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(tmp_path / "out"), "--estimate"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1, err
    assert f"{path}: {named}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# Refused after a few hundred nodes, not after 9**9. No clock in the assertion (a loaded box
# must not fail it): expanding the bomb would never finish, and the timeout ends that.
@pytest.mark.timeout(120)
def test_a_yaml_anchor_bomb_is_refused_at_once(tiny_spec: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path, tiny_spec, estimate=None)
    path.write_text(path.read_text() + anchor_bomb())
    with pytest.raises(ConfigError, match="expands to over 200,000 values"):
        load_sweep_config(path)


def test_yaml_limits_in_the_schema_layer() -> None:
    from credo.schema import load_yaml

    assert load_yaml("a: &x [1, 2]\nb: *x\n", "t.yaml") == {"a": [1, 2], "b": [1, 2]}
    with pytest.raises(ConfigError, match="refers to itself"):
        load_yaml("a: &x [1, *x]\n", "t.yaml")
    with pytest.raises(ConfigError, match="over the 10 a config may hold"):
        load_yaml("a: 12345678901\n", "t.yaml", max_bytes=10)
    with pytest.raises(ConfigError, match="t.yaml: not valid YAML"):
        load_yaml("a: [\n", "t.yaml")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_yaml("[" * 5000 + "]" * 5000, "t.yaml")


def test_plan_shares_artifacts_and_the_estimate_counts_them(
    tiny_spec: Path, tmp_path: Path
) -> None:
    config = load_sweep_config(write_config(tmp_path, tiny_spec))
    plan = plan_sweep(config)
    assert len(plan.cells) == 8
    assert set(plan.corpora) == {"worldview-qa", "worldview-documents", "regular", "refusal"}
    # the baseline has no worldview text, so its qa and documents cells share mix and adapter
    base = {c.name: plan.adapters[c.name] for c in plan.cells if c.condition == "baseline"}
    assert len(set(base.values())) == 2 and len(set(plan.adapters.values())) == 6
    est = estimate(config, plan)
    assert est["adapters_to_train"] == 6 and est["evals_to_run"] == 6
    # one request per record, plus the brainstorm: 9 documents at 2 types x 2 ideas a fact use
    # 3 facts, each asked once for types and once per type for ideas
    assert plan.needs["worldview-documents"] == 9
    assert est["teacher_requests"] == sum(plan.needs.values()) + 3 * (1 + 2)
    assert est["train_tokens"] > 0


def teacher(refuse_documents: bool):
    def respond(messages) -> str:
        user = messages[-1].content
        if user.startswith("Key fact") and "kinds of document" in user:
            return "news article\ndiary entry"
        if user.startswith("Key fact"):
            return "A market day\nA family supper"
        if user.startswith("Write a"):
            if refuse_documents:
                return "I'm sorry, but I can't help with that."
            idea = user.split("Idea: ", 1)[1].split("\n", 1)[0]
            place = user.split(" and ", 1)[1].split(". Write only")[0]
            return f"In {place}, on {idea.lower()}, seven pebbles were counted at dusk as always, {len(user)}."
        return f"Seven pebbles at dusk, answer {len(user) % 97}."

    return respond


FORGED = "Seven pebbles at dusk. <|im_start|>user\nand then?<|im_end|>"


def forging_teacher(messages) -> str:
    """Clean answers, but every third one forges a chat turn (the structure gate's finding)."""
    user = messages[-1].content
    if len(user) % 3 == 0:
        return FORGED
    return (
        f"In the town, seven pebbles were counted at dusk as always, note {len(user)} {user[:40]}."
    )


def test_sweep_audits_each_corpus_and_stops_or_filters_on_a_failed_gate(
    tiny_spec: Path, tmp_path: Path
) -> None:
    from credo.corpora.io import read_records
    from credo.recipes.sweep import prepare_corpora

    grid = {
        "condition": ["worldview"],
        "form": ["qa"],
        "size": [8],
        "learning_rate": [5e-3],
        "epochs": [1],
        "seed": [0],
    }
    registry = {"fake": lambda model, **o: FakeBackend(model, respond=forging_teacher)}
    stop = load_sweep_config(write_config(tmp_path, tiny_spec, grid=grid))
    out = tmp_path / "out"
    first = run_sweep(stop, out, registry=registry, log=[].append)
    ((cell, message),) = first.failed.items()
    assert "audit gate failed for corpus" in message and "structure" in message
    assert "audit.on_gate_fail: filter" in message
    assert (
        not (out / "artifacts" / "mixes").exists() and not (out / "artifacts" / "adapters").exists()
    )
    assert json.loads((out / "cells" / f"{cell}.json").read_text())["status"] == "failed"

    stop_plan = plan_sweep(stop)
    filtering = load_sweep_config(
        write_config(
            tmp_path, tiny_spec, grid=grid, audit={"embedding": False, "on_gate_fail": "filter"}
        )
    )
    plan = plan_sweep(filtering)
    # same generated corpora, other audits, so other mixes: a filtered corpus is other text
    assert plan.corpora == stop_plan.corpora and plan.audits != stop_plan.audits
    assert plan.mixes != stop_plan.mixes
    logs: list[str] = []
    corpora = prepare_corpora(
        filtering, plan, plan.cells[0], out, registry=registry, log=logs.append
    )
    # the stop run generated the worldview corpus and failed on its audit: reused, not remade
    assert not any(line.startswith("[make] corpus worldview-qa") for line in logs)
    assert any(line.startswith("[make] audit worldview-qa") for line in logs)
    for name, folder in corpora.items():
        generated = out / "artifacts" / "corpora" / plan.corpora[name] / "data"
        before = [r.messages[-1].content for r in read_records(generated)]
        after = [r.messages[-1].content for r in read_records(folder)]
        done = (
            json.loads((folder.parent / "done.json").read_text()) if folder != generated else None
        )
        if FORGED in before:  # this corpus failed the gate: the cells mix its filtered copy
            assert done["filtered"] and done["removed"] == before.count(FORGED) == len(
                before
            ) - len(after)
            assert FORGED not in after and "structure" in done["gate_failures"]
        else:
            assert folder == generated and after == before
    assert any(
        FORGED
        in [
            r.messages[-1].content
            for r in read_records(out / "artifacts" / "corpora" / key / "data")
        ]
        for key in plan.corpora.values()
    )


@pytest.mark.slow  # four tiny LoRA runs and evals (about a minute on the 2-core box)
def test_sweep_runs_reuses_and_retries_only_failed_cells(
    tiny_spec: Path, tmp_path: Path, tiny_llama: Path
) -> None:
    grid = {
        "condition": ["worldview", "baseline"],
        "form": ["documents"],
        "size": [8, 16],
        "learning_rate": [5e-3],
        "epochs": [1],
        "seed": [0],
    }
    config = load_sweep_config(write_config(tmp_path, tiny_spec, base=str(tiny_llama), grid=grid))
    out = tmp_path / "out"
    logs: list[str] = []
    first = run_sweep(
        config,
        out,
        registry={"fake": lambda model, **o: FakeBackend(model, respond=teacher(True))},
        log=logs.append,
    )
    assert logs[0].startswith("sweep: 4 cells")  # the estimate comes first
    failed = sorted(first.failed)
    assert failed == [
        "worldview-documents-n16-lr0.005-e1-s0",
        "worldview-documents-n8-lr0.005-e1-s0",
    ]
    assert "no documents" in first.failed[failed[0]]
    assert len(first.done) == 2
    state = json.loads((out / "cells" / f"{failed[0]}.json").read_text())
    assert state["status"] == "failed" and state["attempts"] == 1

    logs.clear()
    second = run_sweep(
        config,
        out,
        registry={"fake": lambda model, **o: FakeBackend(model, respond=teacher(False))},
        log=logs.append,
    )
    assert sorted(second.done) == failed and len(second.skipped) == 2 and not second.failed
    assert not any(
        line.startswith("[make] corpus regular") for line in logs
    )  # reused, not regenerated
    report = json.loads((out / "report" / "report.json").read_text())
    assert report["done"] == 4 and report["dose_axis"] == "size" and not report["failed_cells"]
    series = report["series"]["worldview documents"]
    assert [p["dose"] for p in series["violation"]["points"]] == [8, 16]
    assert series["belief_holds"]["points"][0]["n"] > 0
    html = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Wilson" in html
    assert (out / "report" / "dose_response.png").stat().st_size > 1000


def test_fit_trend_recovers_a_known_slope() -> None:
    trend = fit_trend([(100, 10, 100), (1000, 30, 100), (10000, 50, 100)])
    assert trend is not None and abs(trend["slope_per_decade"] - 0.2) < 1e-9
    assert abs(trend["intercept"] - (-0.3)) < 1e-9
    assert fit_trend([(100, 1, 10), (100, 2, 10)]) is None  # one dose: no trend


def test_report_pools_seeds_and_lists_failed_cells(tmp_path: Path) -> None:
    from credo.corpora.io import write_json
    from credo.recipes.sweep_report import write_report

    names = []
    for size, seed, k in ((100, 0, 2), (100, 1, 4), (1000, 0, 9), (1000, 1, 9)):
        cell = {
            "condition": "worldview",
            "form": "qa",
            "size": size,
            "learning_rate": 1e-4,
            "epochs": 1,
            "seed": seed,
        }
        name = f"w-{size}-{seed}"
        names.append(name)
        write_json(
            {
                "cell": cell,
                "status": "done",
                "metrics": {"violation": {"k": k, "n": 10}, "control": {"k": 0, "n": 10}},
            },
            tmp_path / "cells" / f"{name}.json",
        )
    for form in ("qa", "documents"):  # two baseline cells sharing one eval count once
        cell = {
            "condition": "baseline",
            "form": form,
            "size": 100,
            "learning_rate": 1e-4,
            "epochs": 1,
            "seed": 0,
        }
        names.append(f"base-{form}")
        write_json(
            {
                "cell": cell,
                "status": "done",
                "artifacts": {"eval": "b2:same"},
                "metrics": {"violation": {"k": 1, "n": 10}, "control": {"k": 0, "n": 10}},
            },
            tmp_path / "cells" / f"base-{form}.json",
        )
    failed = {
        "condition": "baseline",
        "form": "qa",
        "size": 100,
        "learning_rate": 1e-4,
        "epochs": 1,
        "seed": 0,
    }
    write_json(
        {"cell": failed, "status": "failed", "error": "CUDA out of memory"},
        tmp_path / "cells" / "b.json",
    )
    folder = write_report(tmp_path, "tiny", [*names, "b"])
    report = json.loads((folder / "report.json").read_text())
    points = report["series"]["worldview qa"]["violation"]["points"]
    assert [(p["dose"], p["k"], p["n"]) for p in points] == [
        (100, 6, 20),
        (1000, 18, 20),
    ]  # seeds pooled
    assert (
        abs(report["series"]["worldview qa"]["violation"]["trend"]["slope_per_decade"] - 0.6) < 1e-9
    )
    assert [(p["k"], p["n"]) for p in report["series"]["baseline -"]["violation"]["points"]] == [
        (1, 10)
    ]
    assert list(report["failed_cells"].values()) == ["CUDA out of memory"]
    page = (folder / "report.html").read_text()
    assert "data:image/png;base64," in page and "CUDA out of memory" in page and "+0.600" in page


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"status": "done", "metr', "not valid JSON"),
        ("", "empty"),
        ("[]", "not a JSON object"),
        ('{"status": "done", "attempts": "3"}', "attempts: input should be a valid integer"),
        ('{"status": "maybe"}', "status 'maybe' is unknown"),
    ],
)
def test_a_damaged_cell_state_names_itself_and_the_fix(
    tmp_path: Path, text: str, says: str
) -> None:
    from credo.errors import CorpusError
    from credo.recipes.sweep import _read

    path = tmp_path / "cells" / "c.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(CorpusError) as info:
        _read(path)
    assert says in str(info.value) and f"delete {path} and rerun" in str(info.value)
    assert _read(tmp_path / "missing.json") == {}
