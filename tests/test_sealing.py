"""Sealed database values: encrypted with the codec's keys, readable with them."""

from __future__ import annotations

import pytest

from irp.sealing import SEALED_PREFIX, seal, unseal
from irp.settings import Settings


def test_sealed_text_round_trips(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("IRP_CODEC", raising=False)
    sealed = seal(settings, "embargoed canary text")
    assert sealed.startswith(SEALED_PREFIX)
    assert "canary" not in sealed
    assert unseal(settings, sealed) == "embargoed canary text"


def test_plain_text_passes_unseal(settings: Settings):
    assert unseal(settings, "gizmo") == "gizmo"
    assert unseal(settings, None) is None


def test_codec_off_stores_plain_text(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IRP_CODEC", "off")
    assert seal(settings, "visible") == "visible"
