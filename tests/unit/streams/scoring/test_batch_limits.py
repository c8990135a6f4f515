"""A batch size above a served model's max_batch_size is refused at worker start."""

from __future__ import annotations

import pytest

from channelpulse.infra.stack.process import free_port
from channelpulse.streams.scoring.limits import (
    BatchSizeTooLarge,
    check_batch_size,
    max_batch_size_of,
    served_batch_limits,
)


def test_max_batch_size_is_read_from_triton_json_configs() -> None:
    assert max_batch_size_of({"config": {"name": "sentiment", "max_batch_size": 64}}) == 64
    assert max_batch_size_of({"name": "anomaly", "maxBatchSize": "8"}) == 8
    assert max_batch_size_of({"config": {"name": "no-batching"}}) == 0


def test_a_batch_size_above_a_model_limit_is_refused_naming_the_model_and_limit() -> None:
    with pytest.raises(BatchSizeTooLarge) as info:
        check_batch_size(128, {"sentiment": 64, "anomaly": 256, "recommender": 32})
    message = str(info.value)
    assert "CHANNELPULSE_BATCH_MAX_SIZE=128" in message
    assert "'recommender' (32)" in message and "'sentiment' (64)" in message
    assert "anomaly" not in message
    assert "at most 32" in message


def test_batch_sizes_within_every_limit_pass() -> None:
    check_batch_size(64, {"sentiment": 64, "anomaly": 256})
    check_batch_size(64, {"unbatched": 0})  # max_batch_size 0: the model does not batch
    check_batch_size(64, {})


def test_an_unreachable_server_yields_no_limits() -> None:
    assert served_batch_limits(f"127.0.0.1:{free_port()}", ["sentiment"], timeout_s=2.0) == {}
