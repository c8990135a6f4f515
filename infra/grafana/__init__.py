"""Grafana provisioning and dashboards, and the PromQL checks that keep them true to the exporters."""
