"""The Triton Python-backend model ``anomaly`` of every version: one adapter over :class:`OnlineDetector`.

``STATE FP64[n, s], VALUES FP64[n, k], TIMES FP64[n, k] -> SCORE FP32[n, k], IS_ANOMALY BOOL[n, k],
NEW_STATE FP64[n, state_size]`` (``models/repository/anomaly/config.pbtxt``); each version's parameters
are its folder's meta.json. Each version's ``model.py`` is a shim that subclasses
:class:`AnomalyPythonModel` as ``TritonPythonModel`` and hands it the backend's utilities module
(``triton_python_backend_utils``, importable only inside Triton's Python backend) as ``pb_utils``,
so this module imports nothing of Triton and the versions share one source.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams
from channelpulse.models.contract import (
    ANOMALY_IN_STATE,
    ANOMALY_IN_TIMES,
    ANOMALY_IN_VALUES,
    ANOMALY_OUT_IS_ANOMALY,
    ANOMALY_OUT_SCORE,
    ANOMALY_OUT_STATE,
)


class AnomalyPythonModel:
    """Each request is scored on its own (its rows are independent sensors, in one vectorised call);
    a request whose tensors disagree in shape gets an error response, the others are scored."""

    pb_utils: ClassVar[Any] = None
    """``triton_python_backend_utils``, set by the version's model.py."""

    detector: OnlineDetector

    def initialize(self, args: dict[str, str]) -> None:
        version_dir = os.path.join(args["model_repository"], args["model_version"])
        self.detector = OnlineDetector(OnlineParams.from_meta(os.path.join(version_dir, "meta.json")))

    def execute(self, requests: list[Any]) -> list[Any]:
        pb = self.pb_utils
        responses = []
        for request in requests:
            rows, values, times = (
                pb.get_input_tensor_by_name(request, name).as_numpy()
                for name in (ANOMALY_IN_STATE, ANOMALY_IN_VALUES, ANOMALY_IN_TIMES)
            )
            if values.shape != times.shape or len(rows) != len(values):
                error = pb.TritonError(
                    f"anomaly: STATE {rows.shape}, VALUES {values.shape} and TIMES {times.shape} disagree"
                )
                responses.append(pb.InferenceResponse(output_tensors=[], error=error))
                continue
            state = self.detector.adopt(rows)
            scores, flags = self.detector.run(state, values.astype(np.float64), times.astype(np.float64))
            responses.append(
                pb.InferenceResponse(
                    output_tensors=[
                        pb.Tensor(ANOMALY_OUT_SCORE, scores.astype(np.float32)),
                        pb.Tensor(ANOMALY_OUT_IS_ANOMALY, flags),
                        pb.Tensor(ANOMALY_OUT_STATE, state),
                    ]
                )
            )
        return responses
