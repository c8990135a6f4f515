"""Channel analytics and alerts (pure logic, no Kafka).

- :class:`~channelpulse.models.analytics.windows.ChannelWindows`: tumbling event-time windows per channel.
- :class:`~channelpulse.models.analytics.surge.NegativeSurgeDetector`: one alert per negative-sentiment surge.
- :func:`~channelpulse.models.analytics.alerts.sensor_anomaly_alert`: one alert per sensor anomaly episode.
"""

from channelpulse.models.analytics.alerts import sensor_anomaly_alert
from channelpulse.models.analytics.observations import Observation
from channelpulse.models.analytics.surge import NegativeSurgeDetector, SurgeParams
from channelpulse.models.analytics.windows import ChannelWindows

__all__ = ["ChannelWindows", "NegativeSurgeDetector", "Observation", "SurgeParams", "sensor_anomaly_alert"]
