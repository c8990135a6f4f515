"""Triton Python-backend adapter of the online sensor anomaly detector (models/anomaly/online.py).

STATE FP64[n, s], VALUES FP64[n, k], TIMES FP64[n, k] -> SCORE FP32[n, k], IS_ANOMALY BOOL[n, k],
NEW_STATE FP64[n, state_size]; parameters from this version's meta.json.
"""

import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams  # noqa: E402
from channelpulse.models.contract import (  # noqa: E402
    ANOMALY_IN_STATE,
    ANOMALY_IN_TIMES,
    ANOMALY_IN_VALUES,
    ANOMALY_OUT_IS_ANOMALY,
    ANOMALY_OUT_SCORE,
    ANOMALY_OUT_STATE,
)


class TritonPythonModel:
    """Each request is scored on its own (its rows are independent sensors, in one vectorised call)."""

    def initialize(self, args):
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        self.detector = OnlineDetector(OnlineParams.from_meta(os.path.join(version_dir, "meta.json")))

    def execute(self, requests):
        responses = []
        for request in requests:
            rows = pb_utils.get_input_tensor_by_name(request, ANOMALY_IN_STATE).as_numpy()
            values = pb_utils.get_input_tensor_by_name(request, ANOMALY_IN_VALUES).as_numpy()
            times = pb_utils.get_input_tensor_by_name(request, ANOMALY_IN_TIMES).as_numpy()
            if values.shape != times.shape or len(rows) != len(values):
                error = pb_utils.TritonError(
                    f"anomaly: STATE {rows.shape}, VALUES {values.shape} and TIMES {times.shape} disagree"
                )
                responses.append(pb_utils.InferenceResponse(output_tensors=[], error=error))
                continue
            state = self.detector.adopt(rows)
            scores, flags = self.detector.run(state, values.astype(np.float64), times.astype(np.float64))
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor(ANOMALY_OUT_SCORE, scores.astype(np.float32)),
                        pb_utils.Tensor(ANOMALY_OUT_IS_ANOMALY, flags),
                        pb_utils.Tensor(ANOMALY_OUT_STATE, state),
                    ]
                )
            )
        return responses
