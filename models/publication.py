"""Arguments and results of the publication activities."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from models.incident import IncidentStatus


class PublishCsafInput(BaseModel):
    """An incident whose CSAF VEX document to publish, and who publishes it."""

    incident: IncidentStatus
    publisher_name: str | None = None
    """None takes `IRP_PUBLISHER_NAME`."""
    publisher_namespace: str | None = None
    """None takes `IRP_PUBLISHER_NAMESPACE`."""
    now: AwareDatetime | None = None
    """Date of a new revision; the workflow passes `workflow.now()`, None takes the worker's clock."""


class PublishCsafResult(BaseModel):
    """Location, version and SHA-256 digest of the published document."""

    document_path: str
    url: str
    version: str
    sha256: str
    already_published: bool = False
    """True when the directory already held these facts, as after a retried attempt."""

