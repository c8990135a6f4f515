"""The serving contract: names and tensors of the models in the Triton model repository.

The Triton adapters (models/repository/<model>/<version>/model.py) and the client side
(streams/scoring/) both read these constants, so neither spells a tensor name of its own.
Batch dimension first everywhere (``max_batch_size`` > 0 in each config.pbtxt).
"""

from __future__ import annotations

from typing import Final

SENTIMENT_LABELS: Final = ("negative", "neutral", "positive")

# sentiment: TEXT BYTES[1] (UTF-8) -> PROBS FP32[3] in SENTIMENT_LABELS order,
#            EMBEDDING FP32[-1] (the encoder's sentence embedding, for input-drift detection).
SENTIMENT_MODEL: Final = "sentiment"
SENTIMENT_IN_TEXT: Final = "TEXT"
SENTIMENT_OUT_PROBS: Final = "PROBS"
SENTIMENT_OUT_EMBEDDING: Final = "EMBEDDING"

# recommender: HISTORY BYTES[-1] (the user's recent item ids, oldest first, padded with b""),
#              EXCLUDE BYTES[-1] (items never to recommend: already bought; padded with b""),
#              K INT32[1]
#           -> ITEMS BYTES[-1] (best first, padded with b""), SCORES FP32[-1].
RECOMMENDER_MODEL: Final = "recommender"
RECOMMENDER_IN_HISTORY: Final = "HISTORY"
RECOMMENDER_IN_EXCLUDE: Final = "EXCLUDE"
RECOMMENDER_IN_K: Final = "K"
RECOMMENDER_OUT_ITEMS: Final = "ITEMS"
RECOMMENDER_OUT_SCORES: Final = "SCORES"

# anomaly (versions 2 and 3, per request row = one sensor): STATE FP64[-1] (the sensor's detector state
#          row, right-padded with zeros; empty/zeros: new sensor), VALUES FP64[-1] and TIMES FP64[-1]
#          (its new readings in time order, epoch seconds; NaN time: padding)
#          -> SCORE FP32[-1] in [0, 1], IS_ANOMALY BOOL[-1] (one per reading), NEW_STATE FP64[-1].
ANOMALY_MODEL: Final = "anomaly"
ANOMALY_IN_STATE: Final = "STATE"
ANOMALY_IN_VALUES: Final = "VALUES"
ANOMALY_IN_TIMES: Final = "TIMES"
ANOMALY_OUT_SCORE: Final = "SCORE"
ANOMALY_OUT_IS_ANOMALY: Final = "IS_ANOMALY"
ANOMALY_OUT_STATE: Final = "NEW_STATE"
