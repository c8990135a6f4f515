"""The served sentiment runtime (models/sentiment/runtime*.py): every backend computes what the torch
fp32 classifier computes, length bucketing changes nothing but the padding, order is kept, and the
runtime setting is honoured (or falls back, saying why)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from channelpulse.config import REPO_ROOT, Settings
from channelpulse.infra.stack import triton
from channelpulse.models.sentiment import runtime as runtime_module
from channelpulse.models.sentiment.classifier import load_classifier, new_classifier, predict_texts, save_classifier
from channelpulse.models.sentiment.data import load_vader
from channelpulse.models.sentiment.runtime import RUNTIME_ENV, SentimentRuntime, load_runtime, requested_runtime
from channelpulse.models.sentiment.runtime_batching import plan_buckets, plan_in_order
from channelpulse.models.sentiment.runtime_onnx import cache_key, cached_graphs, onnxruntime_available
from channelpulse.models.sentiment.runtime_select import cpu_candidates, cpu_flags, isa_label

SERVED_V2 = REPO_ROOT / "models" / "repository" / "sentiment" / "2"

needs_onnxruntime = pytest.mark.skipif(not onnxruntime_available(), reason="onnxruntime/onnx not installed")

# (runtime, max |probs - fp32|, least embedding cosine with fp32) for the served version 2 classifier.
TOLERANCES = [
    ("onnx-fp32", 1e-4, 0.99999),
    ("torch-bf16", 0.03, 0.999),
    ("onnx-int8", 0.2, 0.95),
]


@pytest.fixture(scope="module")
def checkpoint() -> Path:
    """The committed, trained version 2 classifier folder (what Triton serves): an untrained head's
    near-uniform probabilities would let quantisation noise flip its argmax on any CPU."""
    return SERVED_V2


@pytest.fixture(scope="module")
def cache_root(onnx_cache: Path) -> Path:
    """The shared ONNX cache (see conftest.py): the served version's graphs, exported on first need."""
    return onnx_cache


@pytest.fixture(scope="module")
def sentences(data_dir: Path) -> list[str]:
    """Real sentences of very different lengths: product-review sentences (VADER amazon file)."""
    texts = list(load_vader(data_dir / "sentiment" / "vader_amazon_snippets.tsv").texts[:200])
    return [*sorted(texts, key=len)[::3][:60], "ok", "Worst. Purchase. Ever."]


@pytest.fixture(scope="module")
def reference(checkpoint: Path, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """torch fp32 outputs of the classifier (its own predict_texts)."""
    model, tokenizer, _ = load_classifier(checkpoint, device="cpu")
    return predict_texts(model, tokenizer, sentences)


@pytest.fixture(scope="module")
def fp32(checkpoint: Path, cache_root: Path) -> SentimentRuntime:
    return load_runtime(checkpoint, "torch-fp32", threads=2, cache_root=cache_root)


@pytest.fixture(scope="module")
def fp32_outputs(fp32: SentimentRuntime, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``fp32.predict(sentences)``, run once for the three tests below that check it (~25 s a call on
    a busy 2-core machine)."""
    return fp32.predict(sentences)


def test_buckets_cover_every_row_once_and_pad_only_to_their_longest() -> None:
    lengths = [5, 120, 7, 9, 6, 118, 8, 30, 5, 6]
    buckets = plan_buckets(lengths, max_rows=4, overhead_tokens=4)
    rows = np.concatenate([b.indices for b in buckets])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    assert all(len(b.indices) <= 4 and b.tokens == max(lengths[i] for i in b.indices) for b in buckets)
    padded = sum(len(b.indices) * b.tokens for b in buckets)
    in_order = sum(len(b.indices) * b.tokens for b in plan_in_order(lengths, 4))
    assert padded < in_order / 2
    long_rows = {1, 5}
    assert any(set(b.indices.tolist()) == long_rows for b in buckets)  # the two long reviews ride alone


def test_a_large_call_overhead_keeps_one_bucket_and_an_empty_batch_has_none() -> None:
    assert [len(b.indices) for b in plan_buckets([3, 50, 4], max_rows=8, overhead_tokens=10_000)] == [3]
    assert plan_buckets([], max_rows=8) == []
    with pytest.raises(ValueError):
        plan_buckets([3], max_rows=0)


def test_torch_fp32_runtime_equals_the_classifier(
    fp32_outputs: tuple[np.ndarray, np.ndarray], sentences: list[str], reference: tuple[np.ndarray, np.ndarray]
) -> None:
    probs, embeddings = fp32_outputs
    assert probs.shape == (len(sentences), 3) and embeddings.shape == (len(sentences), 384)
    assert probs.dtype == embeddings.dtype == np.float32
    np.testing.assert_allclose(probs, reference[0], atol=1e-5)
    np.testing.assert_allclose(embeddings, reference[1], atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_bucketing_gives_the_same_result_as_no_bucketing(
    fp32: SentimentRuntime, fp32_outputs: tuple[np.ndarray, np.ndarray], sentences: list[str]
) -> None:
    bucketed = fp32_outputs
    plain = SentimentRuntime(fp32.backend, fp32.tokenizer, fp32.runtime, fp32.dim, bucketing=False).predict(sentences)
    np.testing.assert_allclose(bucketed[0], plain[0], atol=1e-5)
    np.testing.assert_allclose(bucketed[1], plain[1], atol=1e-5)


def test_results_come_back_in_input_order(
    fp32: SentimentRuntime, fp32_outputs: tuple[np.ndarray, np.ndarray], sentences: list[str]
) -> None:
    shuffled = np.random.default_rng(0).permutation(len(sentences))
    probs, embeddings = fp32_outputs
    probs_s, embeddings_s = fp32.predict([sentences[i] for i in shuffled])
    np.testing.assert_allclose(probs_s, probs[shuffled], atol=1e-5)
    np.testing.assert_allclose(embeddings_s, embeddings[shuffled], atol=1e-5)
    empty = fp32.predict([])
    assert empty[0].shape == (0, 3) and empty[1].shape == (0, 384)


@pytest.mark.parametrize(("runtime", "prob_tol", "min_cosine"), TOLERANCES)
def test_each_runtime_matches_torch_fp32(
    runtime: str, prob_tol: float, min_cosine: float, checkpoint: Path, cache_root: Path,
    sentences: list[str], reference: tuple[np.ndarray, np.ndarray],
) -> None:
    if runtime.startswith("onnx") and not onnxruntime_available():
        pytest.skip("onnxruntime/onnx not installed")
    rt = load_runtime(checkpoint, runtime, threads=2, cache_root=cache_root)
    assert rt.runtime == runtime and rt.selection is not None and rt.selection.reason == "set explicitly"
    probs, embeddings = rt.predict(sentences)
    assert np.abs(probs - reference[0]).max() <= prob_tol
    assert (embeddings * reference[1]).sum(axis=1).min() >= min_cosine
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert (probs.argmax(axis=1) == reference[0].argmax(axis=1)).mean() >= 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_fp16_matches_torch_fp32(
    checkpoint: Path, sentences: list[str], reference: tuple[np.ndarray, np.ndarray]
) -> None:
    rt = load_runtime(checkpoint, "auto", device="cuda:0")
    assert rt.runtime == "cuda-fp16"
    probs, embeddings = rt.predict(sentences)
    assert np.abs(probs - reference[0]).max() <= 0.03
    assert (embeddings * reference[1]).sum(axis=1).min() >= 0.999


@needs_onnxruntime
def test_auto_measures_every_candidate_and_keeps_the_fastest(checkpoint: Path, cache_root: Path) -> None:
    rt = load_runtime(checkpoint, "auto", threads=2, cache_root=cache_root)
    selection = rt.selection
    assert selection is not None and selection.requested == "auto"
    candidates = cpu_candidates(cpu_flags(), True)
    assert set(selection.measured) == set(candidates)
    agreeing = {n: f["sentences_per_s"] for n, f in selection.measured.items() if f["cosine_to_fp32"] >= 0.98}
    assert rt.runtime == max(agreeing, key=agreeing.__getitem__)
    assert selection.isa == isa_label(cpu_flags())


def test_onnx_asked_for_without_onnxruntime_falls_back_to_torch(
    checkpoint: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "onnxruntime_available", lambda: False)
    rt = load_runtime(checkpoint, "onnx-int8", threads=2, cache_root=cache_root)
    assert rt.runtime in ("torch-fp32", "torch-bf16")
    assert rt.selection is not None and "onnxruntime" in rt.selection.reason
    assert set(rt.selection.measured) == set(cpu_candidates(cpu_flags(), False))


def test_the_setting_comes_from_the_environment_and_bad_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANNELPULSE_SENTIMENT_RUNTIME", raising=False)
    assert requested_runtime() == "auto"
    monkeypatch.setenv("CHANNELPULSE_SENTIMENT_RUNTIME", "ONNX-INT8")
    assert requested_runtime() == "onnx-int8"
    assert requested_runtime("torch-bf16") == "torch-bf16"
    with pytest.raises(ValueError, match="not one of"):
        requested_runtime("tensorrt")


def test_the_stack_hands_a_set_runtime_to_triton_and_leaves_an_unset_one_to_config_pbtxt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RUNTIME_ENV, raising=False)
    assert triton.server_env(Settings(sentiment_runtime="onnx-fp32"))[RUNTIME_ENV] == "onnx-fp32"
    assert RUNTIME_ENV not in triton.server_env(Settings())
    monkeypatch.setenv(RUNTIME_ENV, "torch-fp32")  # the operator's variable reaches Triton as before
    assert triton.server_env(Settings())[RUNTIME_ENV] == "torch-fp32"


@needs_onnxruntime
def test_exported_graphs_are_cached_per_weights(checkpoint: Path, cache_root: Path, tmp_path: Path) -> None:
    """The shared cache (exported into it above, by an earlier session or by the test stack's Triton)."""
    module, _, _ = load_classifier(checkpoint, device="cpu")
    files = runtime_module.weight_files(checkpoint)
    first = cached_graphs(module, files, cache_root)
    stamp = first["int8"].stat().st_mtime_ns
    assert cached_graphs(module, files, cache_root) == first and first["int8"].stat().st_mtime_ns == stamp
    assert first["int8"].stat().st_size < 0.7 * first["fp32"].stat().st_size  # int8 MatMul weights
    changed = tmp_path / "meta.json"
    changed.write_text('{"temperature": 2.0}')
    assert first["fp32"].parent == cache_root / cache_key(files)
    assert cache_key([*files[:-1], changed]) != cache_key(files)  # other weights, another folder


@needs_onnxruntime
def test_a_fresh_export_into_an_empty_cache_runs_as_torch(tiny_checkpoint: str, tmp_path: Path) -> None:
    """The exporter and the quantizer themselves, every session (the served version's graphs above may
    come from the cache): a tiny classifier (1 layer, 32 dims) exported into an empty folder."""
    torch.manual_seed(0)
    model, tokenizer = new_classifier(tiny_checkpoint)
    version = tmp_path / "2"
    save_classifier(model, tokenizer, version, {"version": "2", "note": "tiny, test only"})
    loaded, loaded_tokenizer, _ = load_classifier(version, device="cpu")
    texts = ["the meal was superb", "it broke on day one and support never answered", "ok"]
    probs_ref, embeddings_ref = predict_texts(loaded, loaded_tokenizer, texts)
    cache = tmp_path / "cache"
    fp32 = load_runtime(version, "onnx-fp32", threads=2, cache_root=cache)
    folder = cache / cache_key(runtime_module.weight_files(version))
    assert [p.name for p in cache.iterdir()] == [folder.name]
    assert sorted(p.name for p in folder.iterdir()) == ["classifier.int8.onnx", "classifier.onnx"]
    probs, embeddings = fp32.predict(texts)
    np.testing.assert_allclose(probs, probs_ref, atol=1e-4)
    np.testing.assert_allclose(embeddings, embeddings_ref, atol=1e-4)
    int8 = load_runtime(version, "onnx-int8", threads=2, cache_root=cache)
    probs8, embeddings8 = int8.predict(texts)
    assert probs8.shape == (3, 3) and embeddings8.shape == (3, loaded.dim)
    np.testing.assert_allclose(probs8.sum(axis=1), 1.0, atol=1e-5)
    assert (embeddings8 * embeddings_ref).sum(axis=1).min() >= 0.9


def test_isa_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni avx512_bf16\n")
    flags = cpu_flags(cpuinfo)
    assert isa_label(flags) == "avx2+avx512f+avx512_vnni+avx512_bf16"
    assert cpu_candidates(flags, True) == ["torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"]
    assert cpu_candidates({"avx2"}, False) == ["torch-fp32"]
    assert cpu_flags(tmp_path / "missing") == set() and isa_label(set()) == "none"
