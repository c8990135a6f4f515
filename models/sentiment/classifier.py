"""The fine-tuned sentiment classifier (version 2 format): a transformer encoder, mean pooling and a
linear three-class head, trained end to end.

``SentimentClassifier.forward(input_ids, attention_mask) -> (logits [n, 3], embedding [n, dim])``:
the logits are already divided by the calibration temperature (so ``softmax(logits)`` are the
calibrated probabilities in SENTIMENT_LABELS order) and the embedding is the L2-normalised
mean-pooled last hidden state (what the drift monitor profiles, models/drift/profile.py).

A classifier folder (:func:`save_classifier` / :func:`load_classifier`)::

    encoder/            the encoder in Hugging Face format (config.json, model.safetensors in
                        float16) plus the tokenizer files; loads with AutoModel/AutoTokenizer
    head.safetensors    the head (``linear.weight`` [3, dim], ``linear.bias`` [3], float32)
    meta.json           {"format": FORMAT, "labels": [...], "max_length": 128,
                         "temperature": 1.0, "encoder": {...}, "training": {...}, "metrics": {...}}

Float16 keeps a MiniLM-L6 folder at about 46 MB; :func:`load_classifier` casts it back to float32
(or any ``dtype``) on load, because float16 matrix products are slow on most CPUs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from channelpulse.models.contract import SENTIMENT_LABELS, SENTIMENT_MODEL
from channelpulse.models.sentiment.head import SentimentHead
from channelpulse.models.sentiment.labels import NUM_LABELS
from channelpulse.models.text.encoder import pick_device

FORMAT = "channelpulse.sentiment-classifier/1"
ENCODER_DIR = "encoder"
HEAD_FILE = "head.safetensors"
META_FILE = "meta.json"
DEFAULT_MAX_LENGTH = 128
"""Tokens per text at inference (training may truncate shorter, see TrainRecipe.max_length)."""


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``hidden [n, tokens, dim]`` over the unmasked tokens -> ``[n, dim]``."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class SentimentClassifier(torch.nn.Module):
    """Encoder + mean pooling + linear head over the L2-normalised embedding.

    The head sees the normalised embedding scaled by ``sqrt(dim)`` (unit-variance coordinates on
    average), so the logits have a useful range from the start of fine-tuning while the exported
    embedding stays the unit vector the drift profile and version 1 use.
    """

    def __init__(self, encoder: PreTrainedModel, num_labels: int = NUM_LABELS, temperature: float = 1.0) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = SentimentHead(int(encoder.config.hidden_size), num_labels)
        self.temperature = float(temperature)

    @property
    def dim(self) -> int:
        return self.head.dim

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits [n, 3] / temperature, L2-normalised embedding [n, dim])``."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        embedding = torch.nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)
        logits = self.head(embedding * (self.dim**0.5))
        return logits / self.temperature, embedding


def new_classifier(checkpoint: str) -> tuple[SentimentClassifier, PreTrainedTokenizerBase]:
    """An untrained classifier (pretrained encoder ``checkpoint``, seeded-random head) and its tokenizer.

    Seed torch first for a reproducible head."""
    encoder = AutoModel.from_pretrained(checkpoint, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    return SentimentClassifier(encoder), tokenizer


def save_classifier(
    model: SentimentClassifier,
    tokenizer: PreTrainedTokenizerBase,
    out_dir: Path,
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Write ``model`` (encoder in float16), ``tokenizer`` and meta.json (``meta`` plus format,
    name, labels and the model's temperature) to ``out_dir``; returns the meta written.

    The model itself is not modified (the float16 copy is made on the CPU)."""
    out_dir = Path(out_dir)
    encoder_dir = out_dir / ENCODER_DIR
    encoder_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.encoder.state_dict().items()}
    model.encoder.save_pretrained(str(encoder_dir), state_dict=state, safe_serialization=True)
    config_path = encoder_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["torch_dtype"] = "float16"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    tokenizer.save_pretrained(str(encoder_dir))
    head = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.head.state_dict().items()}
    save_file(head, str(out_dir / HEAD_FILE), metadata={"name": SENTIMENT_MODEL})
    written: dict[str, Any] = {
        "name": SENTIMENT_MODEL,
        "format": FORMAT,
        "labels": list(SENTIMENT_LABELS),
        "score": "p(positive) - p(negative)",
        "max_length": DEFAULT_MAX_LENGTH,
        **dict(meta),
        "temperature": round(float(model.temperature), 4),
    }
    written.setdefault("encoder", {})
    written["encoder"] = {**written["encoder"], "dir": ENCODER_DIR, "dim": model.dim, "dtype": "float16"}
    (out_dir / META_FILE).write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
    return written


def read_meta(version_dir: Path) -> dict[str, Any]:
    """A version folder's meta.json."""
    meta: dict[str, Any] = json.loads((Path(version_dir) / META_FILE).read_text(encoding="utf-8"))
    return meta


def is_classifier_dir(version_dir: Path) -> bool:
    """Whether ``version_dir`` holds a fine-tuned classifier (this format), not a version 1 head."""
    return (Path(version_dir) / META_FILE).is_file() and read_meta(version_dir).get("format") == FORMAT


def load_classifier(
    version_dir: Path,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[SentimentClassifier, PreTrainedTokenizerBase, dict[str, Any]]:
    """``(model in eval mode on device, tokenizer, meta)`` of a classifier folder; no network.

    ``device`` None picks CUDA when available, else the CPU."""
    version_dir = Path(version_dir)
    meta = read_meta(version_dir)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{version_dir}: not a {FORMAT} folder (format {meta.get('format')!r})")
    if meta.get("labels") != list(SENTIMENT_LABELS):
        raise ValueError(f"{version_dir}: labels {meta.get('labels')} differ from {SENTIMENT_LABELS}")
    encoder_dir = version_dir / meta.get("encoder", {}).get("dir", ENCODER_DIR)
    encoder = AutoModel.from_pretrained(str(encoder_dir), dtype=dtype, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_dir), local_files_only=True)
    model = SentimentClassifier(encoder, temperature=float(meta.get("temperature", 1.0)))
    model.head.load_state_dict(load_file(str(version_dir / HEAD_FILE)))
    model = model.to(pick_device(str(device) if device is not None else None), dtype).eval()
    return model, tokenizer, meta


def length_order(texts: Sequence[str]) -> np.ndarray:
    """Indices of ``texts`` from shortest to longest (stable): batches of similar length pad less."""
    return np.argsort([len(t) for t in texts], kind="stable")


@torch.inference_mode()
def predict_texts(
    model: SentimentClassifier,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    max_length: int = DEFAULT_MAX_LENGTH,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities ``[n, 3]`` and embeddings ``[n, dim]`` (float32, input order) of
    ``texts``, batched by length with dynamic padding."""
    probs = np.zeros((len(texts), NUM_LABELS), np.float32)
    embeddings = np.zeros((len(texts), model.dim), np.float32)
    device = next(model.parameters()).device
    order = length_order(texts)
    for start in range(0, len(texts), batch_size):
        idx = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        logits, embedding = model(batch["input_ids"], batch["attention_mask"])
        probs[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        embeddings[idx] = embedding.float().cpu().numpy()
    return probs, embeddings
