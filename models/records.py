"""Vulnerability reports as irp reads them, whatever their source format."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class AffectStatus(StrEnum):
    """Affectedness of one product stream, or of one version in a record."""

    affected = "affected"
    not_affected = "not_affected"
    unknown = "unknown"


class VersionChange(BaseModel):
    """A point inside a version range where the status changes."""

    at: str
    status: AffectStatus


class VersionRange(BaseModel):
    """One entry of a CVE record's `versions` list."""

    version: str
    status: AffectStatus
    version_type: str | None = None
    less_than: str | None = None
    less_than_or_equal: str | None = None
    changes: list[VersionChange] = Field(default_factory=list)


class AffectedProduct(BaseModel):
    """One entry of a record's `affected` list: a product and its versions."""

    vendor: str | None = None
    product: str | None = None
    package_name: str | None = None
    collection_url: str | None = None
    purl: str | None = None
    cpes: list[str] = Field(default_factory=list)
    default_status: AffectStatus = AffectStatus.unknown
    versions: list[VersionRange] = Field(default_factory=list)
    container: str = "cna"


class CvssMetric(BaseModel):
    """A CVSS vector a record carries, with the score it states."""

    version: str
    vector: str
    base_score: float | None = None
    base_severity: str | None = None
    container: str = "cna"


class RecordState(StrEnum):
    """Publication state of a record."""

    published = "PUBLISHED"
    rejected = "REJECTED"


class Report(BaseModel):
    """A parsed vulnerability record, the unit that intake hands to an incident."""

    id: str
    """Identifier of the flaw, such as a CVE id."""
    format: str
    """Source format, such as `cve5`."""
    state: RecordState = RecordState.published
    title: str | None = None
    description: str | None = None
    published_at: datetime | None = None
    affected: list[AffectedProduct] = Field(default_factory=list)
    metrics: list[CvssMetric] = Field(default_factory=list)
    cwes: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    replaced_by: list[str] = Field(default_factory=list)
    """Ids that replace a REJECTED record."""
    known_exploited: bool = False
    related: list[str] = Field(default_factory=list)
    """Ids of other flaws the report mentions: closely related, but not aliases."""
    modified_at: datetime | None = None
    withdrawn_at: datetime | None = None
    """When the source withdrew its record; such a report comes with the `REJECTED` state."""
    reporter: str | None = None
    """Sender of the report as `Name <address>`, confidential and never logged."""
