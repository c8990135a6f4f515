"""Triton Python-backend adapter of the recommender (models/recommend/recommender.py).

HISTORY BYTES[n, h], EXCLUDE BYTES[n, e], K INT32[n, 1] -> ITEMS BYTES[n, k], SCORES FP32[n, k]
(k = the request's largest K; shorter lists padded with b"" and 0). Weights from this version folder.
"""

import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

from channelpulse.models.contract import (  # noqa: E402
    RECOMMENDER_IN_EXCLUDE,
    RECOMMENDER_IN_HISTORY,
    RECOMMENDER_IN_K,
    RECOMMENDER_OUT_ITEMS,
    RECOMMENDER_OUT_SCORES,
)
from channelpulse.models.recommend.recommender import Recommender  # noqa: E402


def _rows(request, name):
    """Decoded non-empty strings of each row of a BYTES input."""
    array = pb_utils.get_input_tensor_by_name(request, name).as_numpy()
    return [[v.decode("utf-8") for v in row if v] for row in array.reshape(array.shape[0], -1)]


class TritonPythonModel:
    """Scores all rows of all requests of a batch in one torch call."""

    def initialize(self, args):
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        device = "cpu"
        if args.get("model_instance_kind") == "GPU":
            device = f"cuda:{args['model_instance_device_id']}"
        self.recommender = Recommender.load(version_dir, device=device)

    def execute(self, requests):
        histories, excludes, ks, sizes = [], [], [], []
        for request in requests:
            rows = _rows(request, RECOMMENDER_IN_HISTORY)
            histories += rows
            excludes += [set(r) for r in _rows(request, RECOMMENDER_IN_EXCLUDE)]
            k = pb_utils.get_input_tensor_by_name(request, RECOMMENDER_IN_K).as_numpy().reshape(-1)
            ks += [max(0, int(v)) for v in k]
            sizes.append(len(rows))
        lists = self.recommender.recommend(histories, excludes, max(ks, default=0))
        responses, start = [], 0
        for size in sizes:
            part = range(start, start + size)
            start += size
            width = max(1, max((ks[i] for i in part), default=1))
            items = np.full((size, width), b"", dtype=np.object_)
            scores = np.zeros((size, width), dtype=np.float32)
            for row, i in enumerate(part):
                for col, (item, score) in enumerate(lists[i][: ks[i]]):
                    items[row, col] = item.encode("utf-8")
                    scores[row, col] = score
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor(RECOMMENDER_OUT_ITEMS, items),
                        pb_utils.Tensor(RECOMMENDER_OUT_SCORES, scores),
                    ]
                )
            )
        return responses
