"""Triton Python-backend adapter of the fine-tuned sentiment classifier (models/sentiment/runtime.py).

TEXT BYTES[n, 1] -> PROBS FP32[n, 3], EMBEDDING FP32[n, dim]; the classifier folder is this version
folder (encoder/, head.safetensors, meta.json, profile.json). The runtime is chosen at load:
$CHANNELPULSE_SENTIMENT_RUNTIME, else the config parameter ``sentiment_runtime``, else ``auto`` (a
short measured check); a KIND_GPU instance runs ``cuda-fp16`` on its device. The choice is logged and
exported on Triton's metrics endpoint as ``channelpulse_sentiment_runtime_info{...} 1`` (and what
``auto`` measured as ``channelpulse_sentiment_runtime_probe_sentences_per_second{runtime=...}``).
"""

import json
import os
import site

for _d in filter(None, os.environ.get("CHANNELPULSE_TRITON_SITE_DIRS", "").split(":")):
    site.addsitedir(_d)

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

from channelpulse.models.contract import SENTIMENT_IN_TEXT, SENTIMENT_OUT_EMBEDDING, SENTIMENT_OUT_PROBS  # noqa: E402
from channelpulse.models.sentiment.runtime import RUNTIME_ENV, load_runtime  # noqa: E402

INFO_METRIC = "channelpulse_sentiment_runtime_info"
PROBE_METRIC = "channelpulse_sentiment_runtime_probe_sentences_per_second"


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _parameter(config, key):
    value = config.get("parameters", {}).get(key, {}).get("string_value", "")
    return value.strip() or None


class TritonPythonModel:
    """All requests of a dynamic batch are scored together in one runtime.predict() call."""

    def initialize(self, args):
        config = json.loads(args["model_config"])
        version = args["model_version"]
        version_dir = Path(args["model_repository"]) / version
        device = "cpu"
        if args.get("model_instance_kind") == "GPU":
            device = f"cuda:{args['model_instance_device_id']}"
        requested = os.environ.get(RUNTIME_ENV) or _parameter(config, "sentiment_runtime")
        self.runtime = load_runtime(version_dir, requested, device, max_rows=int(config.get("max_batch_size") or 64))
        selection = self.runtime.selection
        instance = args["model_instance_name"]
        pb_utils.Logger.log_info(f"sentiment v{version} ({instance}): runtime {selection.describe()}")
        labels = {"version": version, "instance": instance}
        self._info_family = pb_utils.MetricFamily(
            name=INFO_METRIC,
            description="The runtime the sentiment model runs on (value 1), with what was asked and the CPU's ISA",
            kind=pb_utils.MetricFamily.GAUGE,
        )
        self._info = self._info_family.Metric(
            labels={**labels, "runtime": selection.runtime, "requested": selection.requested,
                    "device": selection.device, "isa": selection.isa}
        )
        self._info.set(1)
        self._probe_family = pb_utils.MetricFamily(
            name=PROBE_METRIC,
            description="Sentences/s each candidate runtime reached on the load-time probe batch (runtime=auto)",
            kind=pb_utils.MetricFamily.GAUGE,
        )
        self._probes = []
        for name, figures in selection.measured.items():
            if "sentences_per_s" in figures:
                metric = self._probe_family.Metric(labels={**labels, "runtime": name})
                metric.set(float(figures["sentences_per_s"]))
                self._probes.append(metric)

    def execute(self, requests):
        batches = [pb_utils.get_input_tensor_by_name(r, SENTIMENT_IN_TEXT).as_numpy() for r in requests]
        texts = [_text(v) for batch in batches for v in batch.reshape(-1)]
        try:
            probs, embeddings = self.runtime.predict(texts)
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

    def finalize(self):
        # metrics before their families (the backend's rule)
        self._probes.clear()
        self._info = None
        self._info_family = None
        self._probe_family = None
