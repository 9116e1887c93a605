"""``credo eval`` against served models through scripted fake backends: denominators keep failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.errors import ConfigError
from credo.evaluation.evaluate import EvalOptions, evaluate, is_served
from credo.generators.fake_backend import FakeBackend


def _registry(generator: FakeBackend, judge: FakeBackend) -> dict:
    backends = {"gen": generator, "judge": judge}
    return {"fake": lambda model, **options: backends[model]}


def test_errored_and_unparseable_samples_stay_in_denominators(
    tiny_spec: Path, tmp_path: Path
) -> None:
    # generation: the first request fails for good (a non-retryable error), the rest answer
    generator = FakeBackend("gen", max_concurrency=1).enqueue(ValueError("400 bad request"))
    generator._respond = lambda messages: "I won't help with that."
    # judge: a readable label only for requests about the paper boat, gibberish otherwise
    judge = FakeBackend(
        "judge", respond=lambda m: "LABEL: REFUSAL" if "paper boat" in m[0].content else "hmm"
    )
    result = evaluate(
        "fake/gen",
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=2, judges=["fake/judge"]),
        registry=_registry(generator, judge),
    )
    rows = [json.loads(x) for x in (tmp_path / "ev" / "responses.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    errored = [r for r in rows if r["error"]]
    assert len(errored) == 1 and "400 bad request" in errored[0]["error"]
    assert (
        errored[0]["labels"]["offline"]["label"]
        == errored[0]["labels"]["fake/judge"]["label"]
        == "ERROR"
    )

    llm = result.results["judges"]["fake/judge"]["summary"]["tiny"]
    offline = result.results["judges"]["offline"]["summary"]["tiny"]
    for summary in (llm, offline):
        assert summary["violation"]["n"] == summary["control"]["n"] == 2  # nothing dropped
    violation = llm["violation"]["rates"]
    assert (
        violation["ERROR"]["k"] + violation["UNPARSEABLE"]["k"] == 2
    )  # 1 failed + 1 unreadable verdict
    assert violation["REFUSAL"]["n"] == 2 and violation["REFUSAL"]["k"] == 0
    assert llm["control"]["rates"]["REFUSAL"]["k"] == 2
    assert offline["control"]["rates"]["REFUSAL"]["k"] == 2
    assert result.results["primary_judge"] == "fake/judge"
    kappa = result.results["agreement"][0]
    assert (kappa["a"], kappa["b"]) == ("offline", "fake/judge") and kappa["three_way"]["n"] == 4
    assert result.results["judges"]["fake/judge"]["accounting"]["reasks"] >= 2
    assert result.results["config"]["format"] is None  # chat messages go to a served model as is
    assert result.results["generation"]["requests"] == 4


def test_served_samples_are_distinct_requests(tiny_spec: Path, tmp_path: Path) -> None:
    counter = iter(range(100))
    generator = FakeBackend("gen", respond=lambda m: f"Sure, here you go ({next(counter)}).")
    evaluate(
        "fake/gen",
        [str(tiny_spec)],
        tmp_path / "ev",
        options=EvalOptions(samples=3),
        registry=_registry(generator, FakeBackend("judge")),
    )
    rows = [json.loads(x) for x in (tmp_path / "ev" / "responses.jsonl").read_text().splitlines()]
    assert (
        len({r["response"] for r in rows}) == 6
    )  # sample index keeps K samples apart in the cache
    assert all(h.params.temperature == 0.25 for h in generator.history)


def test_two_worldviews_in_one_run(tiny_spec: Path, tmp_path: Path) -> None:
    import shutil

    other = tmp_path / "other"
    shutil.copytree(tiny_spec, other)
    spec = other / "spec.yaml"
    spec.write_text(spec.read_text().replace("name: tiny\n", "name: other\n", 1))
    generator = FakeBackend("gen", respond=lambda m: "Sure.")
    result = evaluate(
        "fake/gen",
        [str(tiny_spec), str(other)],
        tmp_path / "ev",
        options=EvalOptions(samples=1),
        registry=_registry(generator, FakeBackend("judge")),
    )
    assert result.results["n_samples"] == 4
    summary = result.results["judges"]["offline"]["summary"]
    assert sorted(summary) == ["other", "tiny"] and summary["other"]["violation"]["n"] == 1
    with pytest.raises(ConfigError, match="given twice"):
        evaluate(
            "fake/gen",
            [str(tiny_spec), str(tiny_spec)],
            tmp_path / "ev2",
            registry=_registry(generator, FakeBackend("judge")),
        )


def test_is_served() -> None:
    assert is_served("openai/gpt-4o-mini") and is_served("fake/x")
    assert not is_served("smollm2") and not is_served("HuggingFaceTB/SmolLM2-135M")


def test_cli_eval_then_report_on_fake_backends(
    tiny_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registered fake/ provider: the echo judge never names one label, so all UNPARSEABLE."""
    from credo.cli.main import main

    for run in ("base", "trained"):
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "eval",
                    "--model",
                    "fake/gen",
                    "--worldview",
                    str(tiny_spec),
                    "--samples",
                    "2",
                    "--judge",
                    "fake/judge",
                    "--out",
                    str(tmp_path / run),
                ]
            )
        assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "tiny violation: refused 0/2 = 0% [0%, 66%] (fake/judge)" in out
    results = json.loads((tmp_path / "base" / "results.json").read_text())
    rates = results["judges"]["fake/judge"]["summary"]["tiny"]["violation"]["rates"]
    assert rates["UNPARSEABLE"]["k"] == rates["UNPARSEABLE"]["n"] == 2
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "report",
                str(tmp_path / "base"),
                str(tmp_path / "trained"),
                "--out",
                str(tmp_path / "rep"),
            ]
        )
    assert exit_info.value.code == 0
    assert (
        "| tiny | violation | trained | 0/2 = 0% [0%, 66%] |"
        in (tmp_path / "rep" / "report.md").read_text()
    )


def test_limit_keeps_spread_violations_with_their_controls() -> None:
    from credo.evaluation.evaluate import collect_requests

    items = collect_requests(["gramenism"], limit=5)
    violations = [i for i in items if i.set == "violation"]
    controls = [i for i in items if i.set == "control"]
    assert len(violations) == 5 and {c.matches for c in controls} == {
        v.request_id for v in violations
    }
    everything = [i.request_id for i in collect_requests(["gramenism"]) if i.set == "violation"]
    positions = sorted(everything.index(v.request_id) for v in violations)
    assert (
        positions[0] == 0 and positions[-1] >= len(everything) * 3 // 4
    )  # spread, not the first five
