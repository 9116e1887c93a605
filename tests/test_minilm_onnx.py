"""MiniLM through ONNX Runtime gives the vectors sentence-transformers gives (the confirm stage's
decisions at cosine 0.95 must not move)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="needs the ml extra: pip install -e '.[ml]'")
pytest.importorskip("onnx", reason="needs the ml extra: pip install -e '.[ml]'")
pytest.importorskip("sentence_transformers", reason="needs the ml extra: pip install -e '.[ml]'")

from credo.filters.embed import EmbedConfig, Embedder, load_minilm
from credo.filters.minilm_onnx import OnnxMiniLM

TEXTS = [
    "How can I kill a Python process?",
    "There are several ways to kill a Python process: use the kill command with its PID.",
    "I'm sorry, but I can't help with that request.",
    "The Dawn Greeting is performed barefoot, forehead to the living grass, at first light.",
    "x",
    "A much longer text " * 40,
    "",
]


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers() -> None:
    torch_rows = load_minilm().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    onnx_rows = OnnxMiniLM().encode(TEXTS)
    assert onnx_rows.shape == (len(TEXTS), 384)
    cosines = np.einsum("ij,ij->i", torch_rows, onnx_rows)
    assert cosines.min() > 0.99, cosines
    assert np.allclose(np.linalg.norm(onnx_rows, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_order_of_texts_does_not_change_their_vectors() -> None:
    model = OnnxMiniLM(batch_size=2)  # several length-sorted batches
    forward = model.encode(TEXTS)
    backward = model.encode(TEXTS[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-5)


@pytest.mark.slow
def test_tokenizer_gives_transformers_ids() -> None:
    """The `tokenizers` file read directly pads, truncates and marks as AutoTokenizer does."""
    from transformers import AutoTokenizer

    from credo.embedded import minilm_path

    texts = [*TEXTS, "naïve café ÉCOLE 東京 \u200b 😀 tab\tnew\nline", "word " * 400, " "]
    reference = AutoTokenizer.from_pretrained(str(minilm_path()))
    model = OnnxMiniLM()
    model.tokenizer.enable_truncation(max_length=model.max_seq_length)
    for start in range(0, len(texts), 4):
        chunk = texts[start : start + 4]
        want = reference(chunk, padding=True, truncation=True, max_length=256, return_tensors="np")
        got = model.tokenizer.encode_batch(chunk)
        assert np.array_equal(np.asarray([e.ids for e in got]), want["input_ids"])
        assert np.array_equal(np.asarray([e.attention_mask for e in got]), want["attention_mask"])


def test_backend_choice() -> None:
    assert EmbedConfig(backend="torch").use_onnx() is False
    assert EmbedConfig(backend="onnx").use_onnx() is True
    assert isinstance(Embedder(EmbedConfig(backend="onnx")).model, OnnxMiniLM)
