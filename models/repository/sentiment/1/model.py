"""Triton Python-backend adapter of the sentiment model (models/sentiment/model.py).

TEXT BYTES[n, 1] -> PROBS FP32[n, 3], EMBEDDING FP32[n, dim]; weights, encoder checkpoint and
metrics in this version folder (head.safetensors, meta.json), drift reference in profile.json.
"""

import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

from channelpulse.models.contract import SENTIMENT_IN_TEXT, SENTIMENT_OUT_EMBEDDING, SENTIMENT_OUT_PROBS  # noqa: E402
from channelpulse.models.sentiment.model import SentimentModel  # noqa: E402


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    """All requests of a dynamic batch are encoded together in one predict() call."""

    def initialize(self, args):
        version_dir = Path(args["model_repository"]) / args["model_version"]
        device = "cpu"
        if args.get("model_instance_kind") == "GPU":
            device = f"cuda:{args['model_instance_device_id']}"
        self.model = SentimentModel.load(version_dir, device=device)

    def execute(self, requests):
        batches = [pb_utils.get_input_tensor_by_name(r, SENTIMENT_IN_TEXT).as_numpy() for r in requests]
        texts = [_text(v) for batch in batches for v in batch.reshape(-1)]
        try:
            probs, embeddings = self.model.predict(texts)
        except Exception as exc:  # one failure answers every request of the batch with the error
            error = pb_utils.TritonError(f"sentiment: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        responses = []
        row = 0
        for batch in batches:
            part = slice(row, row + len(batch))
            row += len(batch)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor(SENTIMENT_OUT_PROBS, np.ascontiguousarray(probs[part])),
                        pb_utils.Tensor(SENTIMENT_OUT_EMBEDDING, np.ascontiguousarray(embeddings[part])),
                    ]
                )
            )
        return responses
