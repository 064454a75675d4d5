"""Arguments and results of the incident's activities."""

from __future__ import annotations

from pydantic import BaseModel

from models.incident import Affect, IncidentStatus, IntakeSource, Tracker
from models.policy import Notifications
from models.records import Report


class KeepReportInput(BaseModel):
    """A received report to store raw in the database."""

    incident_id: str
    source: IntakeSource


class MatchInput(BaseModel):
    """A report to match against the inventory."""

    report: Report


class MatchResult(BaseModel):
    """One affect per inventory stream."""

    affects: list[Affect]


class ScoreInput(BaseModel):
    """A CVSS vector to score."""

    vector: str


class FileTrackersInput(BaseModel):
    """Affected streams that need a tracker."""

    incident_id: str
    affects: list[Affect]
    private: bool = False
    """True while the incident is under embargo."""


class PublishTrackersInput(BaseModel):
    """An incident whose embargo was lifted, with its trackers."""

    incident_id: str
    trackers: list[Tracker]


class FileTrackersResult(BaseModel):
    """The trackers, one per stream, new or already filed."""

    trackers: list[Tracker]


class RecordTrackerDecisionInput(BaseModel):
    """A tracker whose engineering decision changed."""

    tracker: Tracker


class RenderInput(BaseModel):
    """The incident whose outputs to render."""

    incident: IncidentStatus


class RenderResult(BaseModel):
    """Paths of the rendered files."""

    paths: list[str]


class LoadPolicyInput(BaseModel):
    """Request for the policy in force."""

    incident_id: str


class NotificationInput(BaseModel):
    """An email about an incident, keyed so a retry never sends it twice."""

    key: str
    """Unique per incident, deadline and ladder level."""
    incident_id: str
    kind: str
    """`reminder`, `escalation`, `embargo` or `readiness`."""
    subject: str
    recipients: list[str]
    lines: list[str]
    """Body text, one paragraph each; no embargoed details."""
    notifications: Notifications


class NotificationResult(BaseModel):
    """Destination of the email."""

    delivered_to: str
    """The .eml path in the outbox, or `smtp://host:port`."""
    already_sent: bool = False
