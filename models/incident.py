"""The incident: one flaw's response, as the workflow stores and reports it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from models.records import AffectStatus, Report


class Phase(StrEnum):
    """Phases of the plan, in order."""

    triage = "triage"
    assessment = "assessment"
    closure = "closure"
    closed = "closed"


class Impact(StrEnum):
    """The 4-point impact rating."""

    critical = "Critical"
    important = "Important"
    moderate = "Moderate"
    low = "Low"


class TriageOutcome(StrEnum):
    """What a triage analyst decides about a report."""

    affected = "affected"
    not_affected = "not_affected"
    false_positive = "false_positive"
    duplicate = "duplicate"
    needs_info = "needs_info"


class EngineeringDecision(StrEnum):
    """What a stream's engineering owner decides on its tracker."""

    fix = "fix"
    fixed = "fixed"
    wont_fix = "wont_fix"
    defer = "defer"
    not_affected = "not_affected"


FINAL_ENGINEERING_DECISIONS = frozenset(
    {
        EngineeringDecision.fixed,
        EngineeringDecision.wont_fix,
        EngineeringDecision.defer,
        EngineeringDecision.not_affected,
    }
)


class IntakeSource(BaseModel):
    """One report delivered to an incident: the signal payload of `add_source`."""

    file: str
    digest: str
    """SHA-256 of the raw bytes, so the same file twice is recognised."""
    received_at: datetime
    report: Report
    raw: str
    """The raw report text, kept in the database by the intake step."""
    embargo_until: datetime | None = None
    """Public date of a report that is embargoed from its first moment."""


class SourceRef(BaseModel):
    """A report the incident has recorded."""

    file: str
    format: str
    digest: str
    received_at: datetime


class Affect(BaseModel):
    """Affectedness of one product stream, with the reason it was decided."""

    product: str
    stream: str
    component: str | None = None
    version: str | None = None
    purl: str | None = None
    status: AffectStatus
    reason: str
    decided_by: str = "automatic"
    """`automatic` for inventory matching, else the analyst who set it."""
    owner: str | None = None
    compliance_priority: bool = False


class CvssScore(BaseModel):
    """A CVSS vector scored by the `cvss` library."""

    version: str
    vector: str
    base_score: float
    severity: str


class Tracker(BaseModel):
    """The engineering ticket for one affected stream."""

    id: str
    product: str
    stream: str
    component: str | None = None
    owner: str | None = None
    compliance_priority: bool = False
    public: bool = True
    """False while the incident is under embargo."""
    decision: EngineeringDecision | None = None
    target_date: date | None = None
    fixed_in: str | None = None
    justification: str | None = None
    resolved_at: datetime | None = None

    @property
    def resolved(self) -> bool:
        """Whether the tracker carries a final engineering decision."""
        return self.decision in FINAL_ENGINEERING_DECISIONS


class ProductImpact(BaseModel):
    """A stream's own impact where compensating controls apply."""

    impact: Impact
    justification: str = Field(min_length=1, max_length=10_000)


class DecisionRecord(BaseModel):
    """An accepted decision in the incident's decision log."""

    signal: str
    by: str
    reason: str
    at: datetime
    details: dict[str, Any] = Field(default_factory=dict)


class Rejection(BaseModel):
    """A decision the workflow refused, kept with the reason."""

    signal: str
    reason: str
    at: datetime
    by: str | None = None
    payload: str = ""
    """The payload as received, shortened to a few hundred characters."""


class DeadlineState(StrEnum):
    """State of a deadline."""

    pending = "pending"
    met = "met"
    missed = "missed"
    on_hold = "on_hold"


class Deadline(BaseModel):
    """A deadline the incident keeps with a durable timer."""

    name: str
    """`triage`, or `fix <tracker id>`."""
    started_at: datetime
    due: datetime
    reminder_at: datetime
    planned_due: datetime | None = None
    """The due instant before time on hold was added."""
    state: DeadlineState = DeadlineState.pending
    reminded: bool = False
    escalation_level: int = 0
    """The highest ladder level notified; 0 before any escalation."""
    last_escalated_at: datetime | None = None
    met_at: datetime | None = None
    policy: str = ""
    """The policy rule that set the due date, e.g. `standard Important: 60 days`."""


class Escalation(BaseModel):
    """A notification sent because a deadline or an embargo needed attention."""

    deadline: str
    level: int
    """0 for a reminder, else the ladder level."""
    name: str
    at: datetime
    recipients: list[str]


class HoldPeriod(BaseModel):
    """A span of time during which the deadline clocks stood still."""

    start: datetime
    end: datetime | None = None
    by: str
    reason: str


class EmbargoState(BaseModel):
    """The incident's embargo and its public date."""

    embargoed: bool = False
    public_date: datetime | None = None
    lifted_at: datetime | None = None
    lifted_because: str | None = None
    readiness_checked: bool = False


class MajorIncidentState(StrEnum):
    """State of a Major Incident request."""

    none = "none"
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class StatementApproval(BaseModel):
    """A legal or communications review of a Major Incident's statement."""

    role: str
    approved: bool
    by: str
    at: datetime
    comment: str | None = None


class PendingDismissal(BaseModel):
    """A dismissal of an automatic match that waits for a second analyst."""

    decision: TriageOutcome
    by: str
    reason: str
    at: datetime
    duplicate_of: str | None = None


class ChecklistItem(BaseModel):
    """One item of a phase's checklist and whether it is satisfied."""

    phase: Phase
    item: str
    done: bool
    detail: str = ""


class Incident(BaseModel):
    """The facts of one incident; checklist state is derived from them."""

    id: str
    phase: Phase = Phase.triage
    title: str | None = None
    description: str | None = None
    record_state: str | None = None
    aliases: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    report: Report | None = None
    """The merge of every report received so far."""
    matched: bool = False
    affects: list[Affect] = Field(default_factory=list)
    triage: TriageOutcome | None = None
    duplicate_of: str | None = None
    impact: Impact | None = None
    cvss_vector: str | None = None
    """The vector the assessor set; `cvss` contains its score once computed."""
    cvss: CvssScore | None = None
    cwe: str | None = None
    statement: str | None = None
    mitigation: str | None = None
    product_impacts: dict[str, ProductImpact] = Field(default_factory=dict)
    owner: str | None = None
    opened_at: datetime | None = None
    """Workflow time when the first report was recorded; the triage clock starts here."""
    triaged_at: datetime | None = None
    policy_version: str | None = None
    embargo: EmbargoState = Field(default_factory=EmbargoState)
    major_incident: MajorIncidentState = MajorIncidentState.none
    major_incident_at: datetime | None = None
    statement_approvals: dict[str, StatementApproval] = Field(default_factory=dict)
    """The latest review by role: `legal` and `communications`."""
    pending_dismissal: PendingDismissal | None = None
    deadlines: list[Deadline] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    holds: list[HoldPeriod] = Field(default_factory=list)
    trackers: list[Tracker] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    rejections: list[Rejection] = Field(default_factory=list)
    resolution: str | None = None
    outputs: list[str] = Field(default_factory=list)
    closed_at: datetime | None = None


class IncidentStatus(Incident):
    """The incident with its derived checklist: the `status` query's result."""

    checklist: list[ChecklistItem] = Field(default_factory=list)
    pending: list[str] = Field(default_factory=list)
    """Decisions the incident waits for, in words."""


class IncidentInput(BaseModel):
    """The workflow's start argument; reports arrive through `add_source`."""

    incident_id: str
