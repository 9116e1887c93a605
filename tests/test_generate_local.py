"""A short real run of the embedded SmolLM2 teacher (no key, no network)."""

from __future__ import annotations

import pytest

from credo.corpora import read_records
from credo.generators import generate_corpus
from credo.generators.run_options import GenerateOptions


@pytest.mark.slow
def test_local_smollm2_writes_a_small_corpus(tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_LOCAL_THREADS", "1")
    out = tmp_path / "local"
    result = generate_corpus(
        tiny_spec,
        out,
        options=GenerateOptions(model="local/smollm2", limit=2, max_tokens=24, temperature=0.0),
        progress=False,
    )
    records = list(read_records(out))
    refused = result.manifest["counts"]["teacher_refusals"]
    assert len(records) + refused == 2 and result.manifest["status"] == "complete"
    for record in records:
        assert [m.role for m in record.messages] == ["user", "assistant"]
        assert record.response.strip()
        assert record.meta["model"] == "local/smollm2"
        assert 0 < record.meta["usage"]["output_tokens"] <= 24
    assert result.manifest["last_run"]["requests"] == 2
    assert result.manifest["cost_usd"] == 0.0
