"""Triton Python-backend adapter of the sensor anomaly detector (models/anomaly/detector.py).

WINDOW FP32[n, w] -> SCORE FP32[n, 1], IS_ANOMALY BOOL[n, 1]; parameters from this version's meta.json.
"""

import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

from models.anomaly.detector import AnomalyDetector, DetectorParams  # noqa: E402
from models.contract import ANOMALY_IN_WINDOW, ANOMALY_OUT_IS_ANOMALY, ANOMALY_OUT_SCORE  # noqa: E402


class TritonPythonModel:
    """Scores every request of a batch in one vectorised call (windows left-padded to a common width)."""

    def initialize(self, args):
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        self.detector = AnomalyDetector(DetectorParams.from_meta(os.path.join(version_dir, "meta.json")))
        self.warned_narrow = False

    def execute(self, requests):
        windows = [pb_utils.get_input_tensor_by_name(r, ANOMALY_IN_WINDOW).as_numpy() for r in requests]
        width = max(w.shape[1] for w in windows)
        params = self.detector.params
        if width <= params.min_history and not self.warned_narrow:
            self.warned_narrow = True
            pb_utils.Logger.log_warn(
                f"anomaly: windows of {width} values are never scored (min_history {params.min_history}); "
                f"send {params.width} (CHANNELPULSE_ANOMALY_WINDOW)"
            )
        padded = np.full((sum(len(w) for w in windows), width), np.nan, dtype=np.float32)
        row = 0
        for w in windows:
            padded[row : row + len(w), width - w.shape[1] :] = w
            row += len(w)
        scores, flags = self.detector.score(padded)
        responses = []
        row = 0
        for w in windows:
            part = slice(row, row + len(w))
            row += len(w)
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor(ANOMALY_OUT_SCORE, scores[part].reshape(-1, 1)),
                        pb_utils.Tensor(ANOMALY_OUT_IS_ANOMALY, flags[part].reshape(-1, 1)),
                    ]
                )
            )
        return responses
