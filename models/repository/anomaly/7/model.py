"""Triton Python-backend shim of the sensor anomaly model: every version runs the one adapter
``channelpulse.models.anomaly.python_backend`` (over models/anomaly/online.py) with the parameters in
its own folder's meta.json; this file only puts the project on the backend's path and hands the
adapter Triton's utilities module.
"""

import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

import triton_python_backend_utils as pb_utils  # noqa: E402

from channelpulse.models.anomaly.python_backend import AnomalyPythonModel  # noqa: E402


class TritonPythonModel(AnomalyPythonModel):
    pb_utils = pb_utils
