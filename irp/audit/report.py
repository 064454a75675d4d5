"""The audit report of one incident: what its history proves, event by event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from irp.audit.replayer import ReplayVerdict
from models.incident import EmbargoState, Escalation, HoldPeriod


class PhaseChange(BaseModel):
    """The incident entering a phase, from the `IrpPhase` search attribute upserts."""

    phase: str
    at: datetime
    """Workflow time of the task that changed the phase."""


class AuditDecision(BaseModel):
    """An accepted decision from the decision log, with the sender Temporal recorded."""

    signal: str
    by: str
    reason: str
    at: datetime
    """Workflow time when the decision was applied."""
    identity: str | None = None
    """Client identity in the signal or update event, e.g. `temporal-cli:alice@host`; none for the workflow's own entries."""
    channel: str
    """`signal`, `update`, or `workflow` for entries the workflow made itself (timers, automatic steps)."""
    event_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class AuditRejection(BaseModel):
    """A decision the workflow or the `decide` update rejected, with the reason."""

    signal: str
    reason: str
    at: datetime
    by: str | None = None
    identity: str | None = None
    channel: str
    event_id: int | None = None
    payload: str = ""


class SignalEntry(BaseModel):
    """A `WorkflowExecutionSignaled` event."""

    event_id: int
    name: str
    received_at: datetime
    identity: str
    input: Any = None


class UpdateEntry(BaseModel):
    """An accepted `decide` update and its outcome."""

    event_id: int
    update_id: str
    name: str
    identity: str
    accepted_at: datetime
    input: Any = None
    outcome: str = "pending"
    """`completed`, `failed` or `pending`."""
    failure: str | None = None


class ActivityEntry(BaseModel):
    """One scheduled activity and how it ended."""

    event_id: int
    activity_type: str
    summary: str | None = None
    scheduled_at: datetime
    closed_at: datetime | None = None
    outcome: str = "pending"
    """`completed`, `failed`, `timed_out`, `canceled` or `pending`."""
    attempt: int = 0
    failure: str | None = None


class TimerEntry(BaseModel):
    """One durable timer: when it was started, for how long, and what became of it."""

    event_id: int
    timer_id: str
    summary: str | None = None
    started_at: datetime
    """Workflow time of the task that started the timer."""
    duration_seconds: float
    fires_at: datetime
    outcome: str = "pending"
    """`fired`, `canceled` or `pending`."""
    closed_at: datetime | None = None
    expected_at: datetime | None = None
    """The next clock event re-derived from the recorded policy when the timer started."""
    expected_summary: str | None = None


class SearchAttributeChange(BaseModel):
    """Search attribute values one workflow task upserted."""

    event_id: int
    at: datetime
    values: dict[str, Any]


class AuditDeadline(BaseModel):
    """A deadline as the incident last held it."""

    name: str
    policy: str
    started_at: datetime
    due: datetime
    state: str
    met_at: datetime | None = None
    on_time: bool | None = None
    """Whether the deadline was met by its due instant; none while it is open."""
    reminded: bool = False
    escalation_level: int = 0


class Finding(BaseModel):
    """Something an auditor should look at: a mismatch between the history and what the plan calls for."""

    kind: str
    message: str
    event_id: int | None = None


class AuditReport(BaseModel):
    """Everything the history of one incident shows, with the replay verdict."""

    incident_id: str
    run_id: str
    workflow_type: str
    status: str
    """`running`, `completed`, `failed`, `terminated`, `canceled`, `timed_out` or `continued_as_new`."""
    started_at: datetime
    closed_at: datetime | None = None
    close_reason: str | None = None
    event_count: int
    last_event_at: datetime
    started_by: str = ""
    policy_version: str | None = None
    phase: str | None = None
    resolution: str | None = None
    state_source: str | None = None
    """`workflow result` for a completed incident, `replay` for one still running, none when neither was readable."""
    replay: ReplayVerdict
    phase_changes: list[PhaseChange] = Field(default_factory=list)
    decisions: list[AuditDecision] = Field(default_factory=list)
    rejections: list[AuditRejection] = Field(default_factory=list)
    deadlines: list[AuditDeadline] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    holds: list[HoldPeriod] = Field(default_factory=list)
    embargo: EmbargoState | None = None
    embargo_events: list[AuditDecision] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)
    signals: list[SignalEntry] = Field(default_factory=list)
    updates: list[UpdateEntry] = Field(default_factory=list)
    activities: list[ActivityEntry] = Field(default_factory=list)
    timers: list[TimerEntry] = Field(default_factory=list)
    search_attributes: list[SearchAttributeChange] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
