"""The event lake: validated events, their scores and feedback as partitioned Parquet files.

Layout: ``<lake>/<kind>/date=YYYY-MM-DD/part-<uuid>.parquet``; every row carries the UTC time it is
filed under in the ``lake_ts`` column. :class:`LakeWriter` buffers rows and writes them in batches,
:func:`read_lake` returns a polars DataFrame for a kind and a time range, :func:`apply_retention`
drops old partitions, :func:`erase_rows` removes one user's rows and :func:`lake_stats` counts rows,
files and bytes per partition. Nothing here knows about Kafka: the stream workers hand rows to the
writer, which files identifiers as pseudonyms (streams/privacy).
"""

from channelpulse.streams.lake.erase import erase_rows
from channelpulse.streams.lake.layout import LAKE_TS, validate_kind
from channelpulse.streams.lake.reader import lake_reader, read_lake
from channelpulse.streams.lake.retention import apply_retention
from channelpulse.streams.lake.stats import PartitionStats, lake_stats
from channelpulse.streams.lake.writer import LakeWriter

__all__ = [
    "LAKE_TS",
    "LakeWriter",
    "PartitionStats",
    "apply_retention",
    "erase_rows",
    "lake_reader",
    "lake_stats",
    "read_lake",
    "validate_kind",
]
