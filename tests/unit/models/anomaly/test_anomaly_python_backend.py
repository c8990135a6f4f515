"""The one Triton Python-backend adapter every anomaly version's model.py runs: parameters from the
version folder's meta.json, outputs equal the pure detector's, a request whose shapes disagree gets an
error response while the others in the same call are scored. Triton's utilities module is a stand-in
here (it exists only inside Triton); tests/integration/test_anomaly_triton.py runs the real one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from channelpulse.config import REPO_ROOT
from channelpulse.models import contract
from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams
from channelpulse.models.anomaly.python_backend import AnomalyPythonModel

REPOSITORY = REPO_ROOT / "models" / "repository" / "anomaly"


@dataclass
class _Tensor:
    name: str
    array: np.ndarray

    def as_numpy(self) -> np.ndarray:
        return self.array


@dataclass
class _Response:
    output_tensors: list[_Tensor]
    error: Any = None


@dataclass
class _Request:
    inputs: dict[str, np.ndarray] = field(default_factory=dict)


class _Utils:
    """What the adapter uses of ``triton_python_backend_utils``."""

    Tensor = _Tensor
    InferenceResponse = _Response

    class TritonError(Exception):
        pass

    @staticmethod
    def get_input_tensor_by_name(request: _Request, name: str) -> _Tensor:
        return _Tensor(name, request.inputs[name])


class _Model(AnomalyPythonModel):
    pb_utils = _Utils


def _request(states: np.ndarray, values: np.ndarray, times: np.ndarray) -> _Request:
    return _Request(
        {contract.ANOMALY_IN_STATE: states, contract.ANOMALY_IN_VALUES: values, contract.ANOMALY_IN_TIMES: times}
    )


@pytest.mark.parametrize("version", sorted(p.name for p in REPOSITORY.iterdir() if p.name.isdigit()))
def test_each_version_scores_as_the_detector_with_its_own_parameters(version: str) -> None:
    model = _Model()
    model.initialize({"model_repository": str(REPOSITORY), "model_version": version})
    params = OnlineParams.from_dict(json.loads((REPOSITORY / version / "meta.json").read_text())["parameters"])
    assert model.detector.params == params
    rng = np.random.default_rng(3)
    values = np.concatenate([10.0 + rng.normal(0.0, 1.0, (2, 400)), [[10.0], [60.0]]], axis=1)
    times = np.tile(1_700_000_000.0 + 300.0 * np.arange(values.shape[1]), (2, 1))
    bad = _request(np.zeros((1, 4)), values, times)  # one state row for two sensors
    good = _request(np.zeros((2, 0)), values, times)

    responses = model.execute([bad, good])

    assert isinstance(responses[0].error, _Utils.TritonError) and responses[0].output_tensors == []
    assert "disagree" in str(responses[0].error)
    outputs = {t.name: t.array for t in responses[1].output_tensors}
    detector = OnlineDetector(params)
    state = detector.new_state(2)
    scores, flags = detector.run(state, values, times)
    np.testing.assert_array_equal(outputs[contract.ANOMALY_OUT_SCORE], scores)
    np.testing.assert_array_equal(outputs[contract.ANOMALY_OUT_IS_ANOMALY], flags)
    np.testing.assert_array_equal(outputs[contract.ANOMALY_OUT_STATE], state)
    assert outputs[contract.ANOMALY_OUT_SCORE].dtype == np.float32 and flags[1, -1] and not flags[0, -1]
