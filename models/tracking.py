"""Database tables for engineering trackers and the raw reports intake kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel, UniqueConstraint


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class TrackerRow(SQLModel, table=True):
    """An engineering tracker: one per incident and affected product stream."""

    __tablename__ = "tracker"
    __table_args__ = (UniqueConstraint("incident_id", "product", "stream"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: str = Field(index=True)
    product: str
    stream: str
    component: str | None = None
    """Sealed (encrypted) while the tracker is private."""
    owner: str | None = None
    public: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    """False while the incident is under embargo."""
    decision: str | None = None
    """An `EngineeringDecision` value, or None while engineering has not decided."""
    target_date: date | None = None
    fixed_in: str | None = None
    justification: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ReportRow(SQLModel, table=True):
    """A raw report as received, stored once per SHA-256 digest."""

    __tablename__ = "report"

    digest: str = Field(primary_key=True)
    incident_id: str = Field(index=True)
    file: str
    format: str
    # NOTE: SQLite stores no UTC offset, so there this reads back as a naive UTC datetime.
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
