"""Connect to Temporal the way every irp entry point does."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from irp.codec import build_data_converter, codec_enabled
from irp.settings import Settings


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """Connect with Temporal's client configuration, then irp's defaults, encrypting payloads unless IRP_CODEC=off.

    `runtime` carries telemetry such as a Prometheus endpoint; None uses Temporal's default runtime.
    """
    data_converter = build_data_converter(settings) if codec_enabled() else pydantic_data_converter
    config = ClientConfig.load_client_connect_config()
    config.setdefault("target_host", settings.temporal_address)
    config.setdefault("namespace", settings.temporal_namespace)
    return await Client.connect(**config, data_converter=data_converter, runtime=runtime)
