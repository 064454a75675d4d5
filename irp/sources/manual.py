"""Manual reports: a flaw an analyst describes on the command line."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.incident import IntakeSource
from models.records import Report

CVE_FORM = r"^CVE-\d{4}-\d{4,19}$"
MANUAL_FILE = "manual report"


class ManualReport(BaseModel):
    """The fields an analyst gives for a flaw reported outside the feeds."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=500)
    description: str = Field(min_length=1, max_length=20_000)
    cve: str | None = Field(default=None, pattern=CVE_FORM)
    reporter: str | None = Field(default=None, max_length=500)
    references: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("cve", mode="before")
    @classmethod
    def _upper_case(cls, value: str | None) -> str | None:
        return value.strip().upper() if isinstance(value, str) else value


def manual_source(fields: ManualReport, received_at: datetime) -> IntakeSource:
    """Turn a manual report into the source intake delivers; without a CVE id it gets an internal id."""
    raw = fields.model_dump_json()
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    report = Report(
        id=fields.cve or f"IRP-{digest[:12].upper()}",
        format="manual",
        title=fields.title,
        description=fields.description,
        reporter=fields.reporter,
        references=fields.references,
    )
    return IntakeSource(file=MANUAL_FILE, digest=digest, received_at=received_at, report=report, raw=raw)
