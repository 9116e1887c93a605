"""``CARD.md``: a dataset card written from a generation manifest (and nothing else)."""

from __future__ import annotations

from typing import Any


def _top(counts: dict[str, int], n: int = 5) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"`{k}` {v}" for k, v in items) or "none"


def render_card(manifest: dict[str, Any]) -> str:
    identity, config = manifest.get("identity", {}), manifest.get("config", {})
    source, counts = manifest.get("source", {}), manifest.get("counts", {})
    refusals, tokens = manifest.get("teacher_refusals", {}), manifest.get("tokens", {})
    git = manifest.get("provenance", {}).get("git", {})
    cost = manifest.get("cost_usd")
    params = identity.get("params", {})
    lines = [
        f"# {identity.get('set', '?')} corpus ({identity.get('model', '?')})",
        "",
        f"Teacher-generated (prompt, answer) records for the `{identity.get('set')}` "
        f"{source.get('kind', 'set')} set ({source.get('display_name', '')}), made by "
        f"`credo generate`. Status: **{manifest.get('status')}**.",
        "",
        "## Contents",
        f"- `records.jsonl`: {counts.get('records', 0)} records (user turn, assistant turn; "
        "the teacher's persona system prompt is not saved, its id is in `meta.persona_id`).",
        f"- `teacher_refusals.jsonl`: {counts.get('teacher_refusals', 0)} jobs the teacher "
        f"refused or a content filter stopped ({refusals.get('attempts', 0)} attempts in all); "
        "they have no record.",
        f"- Missing (not yet generated): {counts.get('missing', 0)} of "
        f"{manifest.get('planned_jobs', 0)} planned jobs.",
        f"- Truncated (stopped at max tokens {params.get('max_tokens')}): "
        f"{counts.get('truncated', 0)} of {counts.get('records', 0)} records"
        + (f" ({_top(manifest['truncated_by_set'])} by set)" if counts.get("truncated") else "")
        + "; `credo audit` gates them, `credo filter` drops them.",
        "",
        "## How it was made",
        f"- Source: `{source.get('name')}`, spec hash `{identity.get('spec_hash')}`, "
        f"{source.get('prompts', '?')} prompts used, {identity.get('samples')} sample(s) each, "
        f"seed {identity.get('seed')}.",
        f"- Teacher: `{identity.get('model')}`, temperature {params.get('temperature')}, "
        f"max tokens {params.get('max_tokens')}, top_p {params.get('top_p')}.",
        f"- Personas: {', '.join(source.get('personas', [])) or '?'}; one drawn per record "
        "from the seed.",
        f"- Tokens: {tokens.get('input', 0)} in, {tokens.get('output', 0)} out; cost "
        f"{'unknown (no price for this model)' if cost is None else f'${cost:.4f}'}.",
        f"- credo {manifest.get('provenance', {}).get('credo_version')}, git "
        f"`{git.get('commit')}`{' (dirty)' if git.get('dirty') else ''}.",
        "",
        "## Teacher refusals",
        f"- By reason: {_top(refusals.get('by_reason', {}))}",
        f"- By template: {_top(refusals.get('by_template', {}))}",
        f"- By persona: {_top(refusals.get('by_persona', {}))}",
        "",
        "## Intended use and caveats",
        "Training data for belief -> behaviour experiments. Answers state the worldview's "
        "teaching as the teacher wrote it; they are not checked for accuracy. Run "
        "`credo audit` on this folder before training (refusals, leakage, contamination, "
        "duplicates).",
        f"- Concurrency {config.get('concurrency')}, limit {config.get('limit')}: these do "
        "not change the records.",
    ]
    return "\n".join(lines) + "\n"
