"""Sensor anomaly detection: per-sensor streaming state, a stateless batched detector, NAB scoring.

- :class:`~models.anomaly.window.SensorWindow`: one sensor's recent readings + episode state (Faust table).
- :class:`~models.anomaly.detector.AnomalyDetector`: ``score(windows [n, width]) -> (scores, flags)``.
- :class:`~models.anomaly.episodes.EpisodeTracker`: turns raw flags into one alert per anomaly episode.
- :mod:`models.anomaly.nab`: Numenta Anomaly Benchmark scoring of detections.
"""

from models.anomaly.detector import AnomalyDetector, DetectorParams
from models.anomaly.episodes import EpisodeTracker
from models.anomaly.window import SensorWindow

__all__ = ["AnomalyDetector", "DetectorParams", "EpisodeTracker", "SensorWindow"]
