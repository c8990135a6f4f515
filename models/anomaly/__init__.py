"""Sensor anomaly detection: an online per-sensor detector, its streaming state, NAB scoring.

- :class:`~models.anomaly.online.OnlineDetector`: ``run(state rows, values, times) -> (scores, flags)``,
  updating each sensor's compact state row (served by Triton as the ``anomaly`` model, versions 2 and 3).
- :class:`~models.anomaly.sensor_state.SensorState`: one sensor's state row + episode state (Faust table).
- :class:`~models.anomaly.episodes.EpisodeTracker`: turns raw flags into one alert per anomaly episode.
- :mod:`models.anomaly.nab`: Numenta Anomaly Benchmark v1.1 scoring; :mod:`models.anomaly.evaluation`
  replays NAB series through the detectors; :mod:`models.anomaly.baseline`: NAB's windowed Gaussian;
  :mod:`models.anomaly.detector`: version 1 (raw windows), kept as an evaluation reference.
"""

from models.anomaly.episodes import EpisodeTracker
from models.anomaly.online import OnlineDetector, OnlineParams
from models.anomaly.sensor_state import SensorState

__all__ = ["EpisodeTracker", "OnlineDetector", "OnlineParams", "SensorState"]
