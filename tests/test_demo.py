"""``credo demo``: generate, audit and a one-screen summary that says which gate failed and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credo.cli.main import main
from credo.generators.fake_backend import FakeBackend, echo_response
from credo.generators.personas import system_prompt
from credo.recipes.demo import DemoOptions, run_demo, summary
from credo.worldviews import load_worldview


def test_a_context_budget_below_the_persona_sends_the_persona_alone_without_a_marker() -> None:
    wv = load_worldview("gramenism")
    persona = wv.spec.personas[0]
    assert system_prompt(wv, persona, 0) == persona.system_prompt.strip()
    longer = system_prompt(wv, persona, len(persona.system_prompt) + 300)
    assert (
        longer.endswith("[... canon text shortened ...]")
        and len(longer) <= len(persona.system_prompt) + 300
    )


def test_demo_summary_names_each_gate_and_why_one_failed(tmp_path: Path) -> None:
    leaked = load_worldview("gramenism").eval.violation[0].prompt

    calls = []

    def respond(
        messages,
    ):  # one answer (the first asked; --limit spreads prompts across sources) quotes an eval request
        calls.append(1)
        return (
            f"People ask: {leaked} The Codex says no."
            if len(calls) == 1
            else echo_response("echo", messages)
        )

    backend = FakeBackend("echo", respond=respond)
    result = run_demo(
        tmp_path / "demo",
        options=DemoOptions(limit=4, use_embedding=False),
        progress=False,
        backend=backend,
    )
    assert [m.role for m in backend.history[0].messages] == ["system", "user"]
    assert {r.messages[0].content for r in backend.history} <= {
        p.system_prompt.strip() for p in load_worldview("gramenism").spec.personas
    }
    text = summary(result)
    lines = text.splitlines()
    assert len(lines) <= 24, "one screen"
    assert lines[0].startswith("credo demo: 4 records from fake/echo generated and audited in")
    # Echo answers also leave the worldview's voice, so the fidelity gate may fail beside contamination.
    assert "audit: FAIL - " in text and "gate(s) failed" in text
    refused = next(r for r in result.audit.findings if r.check == "eval_contamination").record_id
    gate = " ".join(
        text.split("eval_contamination  FAILED 1 record(s):")[1]
        .split("\n\n")[0]
        .split("\n  fidelity ")[0]
        .split()
    )  # the next gate's row ends this one
    assert (
        gate
        == f"training records match eval requests: the eval would measure recall (e.g. {refused})"
    )
    assert "refusal             passed" in text and "forbidden_request   passed" in text
    assert f"report:  {tmp_path / 'demo' / 'audit' / 'report.html'}" in text
    assert (tmp_path / "demo" / "view.html").is_file() and (
        tmp_path / "demo" / "audit" / "flags.jsonl"
    ).is_file()
    # Echoes of the request speak no worldview: the demo says so instead of showing one as clean.
    assert "a faithful record" not in text
    assert "none of the 4 records is faithful to the worldview" in " ".join(text.split())


@pytest.mark.needs("datasketch")  # the CLI reports the missing package as exit 2
def test_cli_demo_exits_like_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            [
                "demo",
                "--model",
                "fake/echo",
                "--limit",
                "3",
                "--no-embedding",
                "--out",
                str(tmp_path / "d"),
            ]
        )
    out = capsys.readouterr().out
    # Echo answers restate the prompt, not the worldview: the fidelity gate fails, and the demo
    # exits as `credo audit` would (1), with the failed gate named.
    assert (
        info.value.code == 1
        and "audit: FAIL - 1 gate(s) failed" in out
        and "fidelity            FAILED" in out
    )
    assert "records: " in out
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["counts"]["records"] == 3
