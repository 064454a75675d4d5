"""Encrypt single text values for database columns with the payload codec's keys."""

from __future__ import annotations

import base64

from temporalio.api.common.v1 import Payload

from irp.codec import build_codec, codec_enabled
from irp.settings import Settings

SEALED_PREFIX = "sealed:v1:"


def seal(settings: Settings, text: str) -> str:
    """Encrypt a text with the newest key; with the codec switched off, return it unchanged."""
    if not codec_enabled():
        return text
    payload = build_codec(settings).encrypt(Payload(data=text.encode("utf-8")))
    return SEALED_PREFIX + base64.b64encode(payload.SerializeToString()).decode("ascii")


def unseal(settings: Settings, value: str | None) -> str | None:
    """Decrypt a sealed text; plain text passes through unchanged."""
    if value is None or not value.startswith(SEALED_PREFIX):
        return value
    payload = Payload.FromString(base64.b64decode(value.removeprefix(SEALED_PREFIX)))
    return build_codec(settings).decrypt(payload).data.decode("utf-8")

