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


def test_backend_choice() -> None:
    assert EmbedConfig(backend="torch").use_onnx() is False
    assert EmbedConfig(backend="onnx").use_onnx() is True
    assert isinstance(Embedder(EmbedConfig(backend="onnx")).model, OnnxMiniLM)
