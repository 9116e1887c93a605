"""Shared test setup: offline, isolated state, no retry waits.

Live API tests carry ``@pytest.mark.api`` and run only with ``--runapi``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runapi", action="store_true", help="run tests that call real provider APIs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runapi"):
        return
    skip_api = pytest.mark.skip(reason="needs --runapi and a real API key")
    for item in items:
        if "api" in item.keywords:
            item.add_marker(skip_api)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted-model cache for the whole session (the GGUF conversion takes ~25 s).

    The static embedding model is distilled in ~200 s, too slow for tests: the cache gets
    MiniLM's token table as the static model instead (2 s; MiniLM confirms its candidates).
    """
    from credo.embedded import STATIC_MINILM, token_table_static

    cache = tmp_path_factory.mktemp("models")
    token_table_static(cache / STATIC_MINILM)
    return cache


@pytest.fixture(autouse=True)
def _isolated_credo(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory, model_cache: Path
) -> None:
    home = tmp_path_factory.mktemp("credo_home")
    monkeypatch.setenv("CREDO_HOME", str(home))
    monkeypatch.setenv("CREDO_MODEL_CACHE", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CREDO_RETRY_BASE", "0")
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def tiny_spec() -> Path:
    return FIXTURES / "tiny"


@pytest.fixture(scope="session")
def tiny_llama(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, hidden-64 random Llama saved with the SmolLM2 tokenizer (no weight download).

    Fast enough for train, eval and probe tests; the tokenizer is the real one, so masking and
    chat formats are exercised as with SmolLM2 itself.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDO_MODEL_CACHE", str(model_cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        from credo.embedded import smollm2_path

        tokenizer = AutoTokenizer.from_pretrained(str(smollm2_path()))
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp("tiny-llama")
        LlamaForCausalLM(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        return folder


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the whole session: 2 CPUs, loopback, no dashboard."""
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _node_ip_address="127.0.0.1",
        ignore_reinit_error=True,
    )
    yield ray
    ray.shutdown()
