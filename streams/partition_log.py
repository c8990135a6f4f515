"""What delivery (streams/partition_delivery.py) looks up in Kafka beside the Faust consumer, through
kafka-python (streams/kafka_io.py): the group's committed offsets, and the first record at or after
an offset. Both block: delivery runs them in an executor."""

from __future__ import annotations

from collections.abc import Collection

from faust.types import TP

from channelpulse.config import Settings
from channelpulse.streams.kafka_io import committed_offsets, first_offset_from


class KafkaPartitionLog:
    """The worker group's (``settings.app_id``) offsets and the partitions' logs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def committed(self, tps: Collection[TP]) -> dict[TP, int]:
        """The group's committed offset of each of ``tps`` that has one."""
        return {
            TP(topic, partition): offset
            for (topic, partition), offset in committed_offsets(self.settings, self.settings.app_id, tps).items()
        }

    def first_offset_from(self, tp: TP, offset: int) -> int | None:
        """The offset of the first record at or after ``offset`` (None if none came in time)."""
        return first_offset_from(self.settings, tp.topic, tp.partition, offset)
