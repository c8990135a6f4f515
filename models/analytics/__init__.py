"""Channel analytics and alerts (pure logic, no Kafka).

- :class:`~models.analytics.windows.ChannelWindows`: tumbling event-time windows per channel.
- :class:`~models.analytics.surge.NegativeSurgeDetector`: one alert per negative-sentiment surge.
- :func:`~models.analytics.alerts.sensor_anomaly_alert`: one alert per sensor anomaly episode.
"""

from models.analytics.alerts import sensor_anomaly_alert
from models.analytics.observations import Observation
from models.analytics.surge import NegativeSurgeDetector, SurgeParams
from models.analytics.windows import ChannelWindows

__all__ = ["ChannelWindows", "NegativeSurgeDetector", "Observation", "SurgeParams", "sensor_anomaly_alert"]
