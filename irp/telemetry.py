"""Prometheus metrics of a worker: Temporal's runtime telemetry served on a local port."""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from workflows.metrics import DURATION_BUCKETS, TIME_TO_FIX, TIME_TO_TRIAGE

PORT_VARIABLE = "IRP_METRICS_PORT"
HOST_VARIABLE = "IRP_METRICS_HOST"
DEFAULT_HOST = "127.0.0.1"


class TelemetryError(ValueError):
    """The metrics settings are invalid or the metrics endpoint cannot start."""


def metrics_address(environ: Mapping[str, str] = os.environ) -> str | None:
    """Return HOST:PORT of the metrics endpoint from IRP_METRICS_PORT and IRP_METRICS_HOST, or None when metrics are off."""
    port = environ.get(PORT_VARIABLE, "").strip()
    if not port or port.lower() == "off":
        return None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise TelemetryError(f"{PORT_VARIABLE} `{port}` is not a TCP port from 1 to 65535; unset it to turn metrics off")
    host = environ.get(HOST_VARIABLE, "").strip() or DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{int(port)}"


def build_runtime(bind_address: str) -> Runtime:
    """Create a Temporal runtime that serves its metrics and irp's at http://BIND_ADDRESS/metrics."""
    prometheus = PrometheusConfig(
        bind_address=bind_address,
        histogram_bucket_overrides={TIME_TO_TRIAGE: DURATION_BUCKETS, TIME_TO_FIX: DURATION_BUCKETS},
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except Exception as error:  # the core raises a plain exception when the port is taken
        raise TelemetryError(f"cannot serve metrics on {bind_address}: {error}") from None
