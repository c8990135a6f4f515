"""Sensor anomaly detection: an online per-sensor detector, its streaming state, NAB scoring.

- :class:`~channelpulse.models.anomaly.online.OnlineDetector`: ``run(state rows, values, times) -> (scores, flags)``,
  updating each sensor's compact state row (served by Triton as the ``anomaly`` model, versions 2 and 3).
- :class:`~channelpulse.models.anomaly.sensor_state.SensorState`: one sensor's state row + episode state (Faust table).
- :class:`~channelpulse.models.anomaly.episodes.EpisodeTracker`: turns raw flags into one alert per anomaly episode.
- :mod:`channelpulse.models.anomaly.nab`: Numenta Anomaly Benchmark v1.1 scoring;
  :mod:`channelpulse.models.anomaly.evaluation` replays NAB series through the detectors;
  :mod:`channelpulse.models.anomaly.baseline`: NAB's windowed Gaussian;
  :mod:`channelpulse.models.anomaly.detector`: version 1 (raw windows), kept as an evaluation reference.
"""

from channelpulse.models.anomaly.episodes import EpisodeTracker
from channelpulse.models.anomaly.online import OnlineDetector, OnlineParams
from channelpulse.models.anomaly.sensor_state import SensorState

__all__ = ["EpisodeTracker", "OnlineDetector", "OnlineParams", "SensorState"]
