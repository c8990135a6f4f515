from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from streams.bench.model_speed import held_out, time_batches
from streams.bench.onnx_runtimes import EncoderWithHead, export_onnx, onnx_predict, quantize_int8, torch_predict


@pytest.fixture(scope="module")
def tiny() -> EncoderWithHead:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=120, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    return EncoderWithHead(BertModel(config), torch.nn.Linear(32, 3)).eval()


def inputs(batch: int = 6, tokens: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 120, size=(batch, tokens)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[0, 6:] = 0  # a padded row: padding must not change its result
    return ids, mask


def test_onnx_fp32_matches_torch_and_int8_stays_close(tiny: EncoderWithHead, tmp_path: Path) -> None:
    ids, mask = inputs()
    expected = torch_predict(tiny)(ids, mask)
    np.testing.assert_allclose(expected.sum(axis=1), 1.0, rtol=1e-5)
    fp32 = export_onnx(tiny, ids, mask, tmp_path / "m.onnx")
    np.testing.assert_allclose(onnx_predict(fp32, 1)(ids, mask), expected, atol=1e-5)
    # dynamic axes: another batch size and length work too
    ids2, mask2 = inputs(batch=3, tokens=17)
    np.testing.assert_allclose(onnx_predict(fp32, 1)(ids2, mask2), torch_predict(tiny)(ids2, mask2), atol=1e-5)
    int8 = quantize_int8(fp32, tmp_path / "m.int8.onnx")
    assert int8.stat().st_size < fp32.stat().st_size
    got = onnx_predict(int8, 1)(ids, mask)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-4)
    assert np.abs(got - expected).max() < 0.1


def test_padding_does_not_change_a_sentence(tiny: EncoderWithHead) -> None:
    ids, mask = inputs()
    short = torch_predict(tiny)(ids[:1, :6], mask[:1, :6])
    np.testing.assert_allclose(torch_predict(tiny)(ids, mask)[:1], short, atol=1e-5)


def test_runtimes_are_timed_interleaved_on_the_same_batch() -> None:
    order: list[str] = []

    def runtime(name: str):  # type: ignore[no-untyped-def]
        return lambda ids, mask: order.append(name)

    times = time_batches({"a": runtime("a"), "b": runtime("b")}, np.zeros((1, 1)), np.zeros((1, 1)), reps=3)
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3}
    assert order[4:] == ["a", "b", "a", "b", "a", "b"]  # after two untimed calls each


def test_held_out_is_the_fixed_test_split_of_both_files(data_dir: Path) -> None:
    test = held_out(data_dir)
    assert 0.15 * 14_313 < len(test) < 0.25 * 14_313
    assert held_out(data_dir).texts == test.texts
