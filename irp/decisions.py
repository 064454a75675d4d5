"""Rules for analysts' decisions: parse the payload, check it is allowed, apply it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from pydantic import ValidationError

from irp import checklist
from irp.roles import RoleMissing, check_role
from models.decisions import (
    DECISION_MODELS,
    ApproveDismissalDecision,
    ApproveStatementDecision,
    MajorIncidentDecision,
    AssessDecision,
    AssignDecision,
    CloseDecision,
    CommentDecision,
    Decision,
    EmbargoAction,
    EmbargoDecision,
    HoldDecision,
    ResumeDecision,
    TrackerDecision,
    TriageDecision,
)
from models.incident import (
    Affect,
    DecisionRecord,
    HoldPeriod,
    Incident,
    MajorIncidentState,
    PendingDismissal,
    StatementApproval,
    Phase,
    Rejection,
    Tracker,
    TriageOutcome,
)
from models.policy import Policy
from models.records import AffectStatus

PAYLOAD_EXCERPT = 300

DISMISSALS = {TriageOutcome.not_affected, TriageOutcome.false_positive, TriageOutcome.duplicate}
SECOND_PERSON_DISMISSALS = {TriageOutcome.not_affected, TriageOutcome.false_positive}

ALLOWED_PHASES: dict[str, set[Phase]] = {
    "triage": {Phase.triage, Phase.assessment, Phase.closure},
    "assess": {Phase.assessment, Phase.closure},
    "tracker_decision": {Phase.assessment, Phase.closure},
    "assign": {Phase.triage, Phase.assessment, Phase.closure},
    "comment": {Phase.triage, Phase.assessment, Phase.closure},
    "close": {Phase.triage, Phase.assessment, Phase.closure},
    "embargo": {Phase.triage, Phase.assessment, Phase.closure},
    "approve_dismissal": {Phase.triage},
    "major_incident": {Phase.triage, Phase.assessment, Phase.closure},
    "approve_statement": {Phase.assessment, Phase.closure},
    "hold": {Phase.triage, Phase.assessment, Phase.closure},
    "resume": {Phase.triage, Phase.assessment, Phase.closure},
}


class DecisionRejected(Exception):
    """A decision that the plan does not allow, with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_decision(signal: str, payload: Any) -> Decision:
    """Validate a raw JSON payload into the signal's decision model."""
    model = DECISION_MODELS.get(signal)
    if model is None:
        raise DecisionRejected(f"unknown decision `{signal}`; expected one of {', '.join(DECISION_MODELS)}")
    if not isinstance(payload, dict):
        raise DecisionRejected(f"`{signal}` expects a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise DecisionRejected(f"invalid `{signal}` payload: {describe_errors(error)}") from None


def describe_errors(error: ValidationError) -> str:
    """Render pydantic errors as `field: problem` phrases."""
    phrases = []
    for detail in error.errors(include_url=False):
        message = detail["msg"].removeprefix("Value error, ")
        field = ".".join(str(part) for part in detail["loc"])
        phrases.append(f"{field}: {message}" if field else message)
    return "; ".join(phrases)


def check_decision(
    incident: Incident, signal: str, decision: Decision, now: datetime, policy: Policy | None = None
) -> None:
    """Raise `DecisionRejected` unless the decision is allowed now and `by` has the role for it."""
    if incident.phase not in ALLOWED_PHASES[signal]:
        raise DecisionRejected(f"`{signal}` is not accepted in phase {incident.phase.value}")
    try:
        check_role(policy, incident, signal, decision)
    except RoleMissing as missing:
        raise DecisionRejected(str(missing)) from None

    match decision:
        case TriageDecision():
            _check_triage(incident, decision)
        case AssessDecision():
            _check_assess(incident, decision)
        case TrackerDecision():
            find_tracker(incident, decision.tracker)
        case CloseDecision():
            _check_close(incident)
        case EmbargoDecision():
            _check_embargo(incident, decision, now)
        case HoldDecision():
            if on_hold(incident):
                raise DecisionRejected(f"the clocks are already on hold since {incident.holds[-1].start.isoformat()}")
        case ResumeDecision():
            if not on_hold(incident):
                raise DecisionRejected("the clocks are not on hold")
        case ApproveDismissalDecision():
            _check_approve_dismissal(incident, decision)
        case MajorIncidentDecision():
            _check_major_incident(incident, decision)
        case ApproveStatementDecision():
            _check_approve_statement(incident)


def apply_decision(incident: Incident, signal: str, decision: Decision, now: datetime) -> DecisionRecord:
    """Change the incident by an allowed decision and return its log record."""
    match decision:
        case TriageDecision():
            _apply_triage(incident, decision, now)
        case AssessDecision():
            _apply_assess(incident, decision)
        case TrackerDecision():
            _apply_tracker_decision(incident, decision, now)
        case AssignDecision():
            incident.owner = decision.owner
        case CloseDecision():
            incident.resolution = decision.resolution
        case EmbargoDecision():
            _apply_embargo(incident, decision, now)
        case HoldDecision():
            incident.holds.append(HoldPeriod(start=now, by=decision.by, reason=decision.reason))
        case ResumeDecision():
            incident.holds[-1].end = now
        case ApproveDismissalDecision():
            _apply_approve_dismissal(incident, decision, now)
        case MajorIncidentDecision():
            _apply_major_incident(incident, decision, now)
        case ApproveStatementDecision():
            incident.statement_approvals[decision.role] = StatementApproval(
                role=decision.role, approved=decision.approved, by=decision.by, at=now, comment=decision.comment
            )

    details = decision.model_dump(mode="json", exclude={"by", "reason"}, exclude_defaults=True)
    record = DecisionRecord(signal=signal, by=decision.by, reason=decision.reason, at=now, details=details)
    incident.decisions.append(record)
    return record


def take_decision(
    incident: Incident, signal: str, payload: Any, now: datetime, policy: Policy | None = None
) -> DecisionRecord | Rejection:
    """Apply a raw decision, or record and return its rejection."""
    try:
        decision = parse_decision(signal, payload)
        check_decision(incident, signal, decision, now, policy)
    except DecisionRejected as rejected:
        return reject(incident, signal, payload, rejected.reason, now)
    return apply_decision(incident, signal, decision, now)


def reject(incident: Incident, signal: str, payload: Any, reason: str, now: datetime) -> Rejection:
    """Record a rejected decision in the incident."""
    by = payload.get("by") if isinstance(payload, dict) else None
    rejection = Rejection(
        signal=signal,
        reason=reason,
        at=now,
        by=str(by)[:200] if by is not None else None,
        payload=excerpt(payload),
    )
    incident.rejections.append(rejection)
    return rejection


def excerpt(payload: Any) -> str:
    """Render a payload as JSON, cut to a few hundred characters."""
    try:
        text = json.dumps(payload, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(payload)
    if len(text) > PAYLOAD_EXCERPT:
        return text[:PAYLOAD_EXCERPT] + "…"
    return text


def find_tracker(incident: Incident, reference: str) -> Tracker:
    """Find a tracker by id, `product/stream` or a stream name that is unique."""
    for tracker in incident.trackers:
        if reference in (tracker.id, f"{tracker.product}/{tracker.stream}"):
            return tracker
    by_stream = [t for t in incident.trackers if t.stream == reference]
    if len(by_stream) == 1:
        return by_stream[0]
    known = ", ".join(f"{t.id} ({t.product}/{t.stream})" for t in incident.trackers) or "none filed yet"
    if by_stream:
        raise DecisionRejected(f"stream `{reference}` is ambiguous; name the tracker id. Trackers: {known}")
    raise DecisionRejected(f"no tracker `{reference}`; trackers: {known}")


def score_vector(vector: str) -> tuple[str, float, str]:
    """Score a CVSS v3.x or v4.0 vector; return (version, base score, severity)."""
    try:
        if vector.startswith("CVSS:4.0/"):
            cvss4 = CVSS4(vector)
            return "4.0", float(cvss4.base_score), cvss4.severity
        if vector.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            cvss3 = CVSS3(vector)
            return vector[5:8], float(cvss3.base_score), cvss3.severities()[0]
    except CVSSError as error:
        raise DecisionRejected(f"invalid CVSS vector `{vector}`: {error}") from None
    raise DecisionRejected(f"invalid CVSS vector `{vector}`: expected a CVSS:3.0, 3.1 or 4.0 vector")


def select_streams(incident: Incident, names: list[str]) -> list[Affect]:
    """Resolve `product/stream` or `product` names to the incident's affects."""
    selected: list[Affect] = []
    for name in names:
        matches = [a for a in incident.affects if name in (f"{a.product}/{a.stream}", a.product)]
        if not matches:
            known = ", ".join(f"{a.product}/{a.stream}" for a in incident.affects) or "none"
            raise DecisionRejected(f"unknown product or stream `{name}`; known streams: {known}")
        selected += [a for a in matches if a not in selected]
    return selected


def _check_triage(incident: Incident, decision: TriageDecision) -> None:
    if incident.phase != Phase.triage and decision.decision != TriageOutcome.affected:
        raise DecisionRejected(
            f"triage is decided ({incident.triage}); in phase {incident.phase.value} only an "
            "`affected` decision naming more `products` is accepted"
        )
    if not incident.matched:
        raise DecisionRejected("automatic triage has not finished yet; try again in a moment")
    if decision.decision == TriageOutcome.duplicate and decision.duplicate_of == incident.id:
        raise DecisionRejected("an incident cannot be a duplicate of itself")

    selected = select_streams(incident, decision.products)
    if decision.decision == TriageOutcome.affected:
        already = checklist.affected_streams(incident)
        if not selected and not already:
            raise DecisionRejected(
                "no stream is affected by automatic triage; name the affected streams in `products`"
            )


def _apply_triage(incident: Incident, decision: TriageDecision, now: datetime) -> None:
    for affect in select_streams(incident, decision.products):
        affect.status = AffectStatus.affected
        affect.reason = f"marked affected by {decision.by}: {decision.reason}"
        affect.decided_by = decision.by

    if incident.phase != Phase.triage:
        return
    incident.pending_dismissal = None
    if decision.decision in SECOND_PERSON_DISMISSALS and automatic_match_found(incident):
        incident.pending_dismissal = PendingDismissal(
            decision=decision.decision, by=decision.by, reason=decision.reason, at=now
        )
        return
    _set_triage(incident, decision.decision, decision.duplicate_of, now)


def _set_triage(incident: Incident, outcome: TriageOutcome, duplicate_of: str | None, now: datetime) -> None:
    incident.triage = outcome
    incident.duplicate_of = duplicate_of
    incident.triaged_at = None if outcome == TriageOutcome.needs_info else now
    if outcome in DISMISSALS:
        incident.resolution = outcome.value


def automatic_match_found(incident: Incident) -> bool:
    """Tell whether automatic triage found an affected component in some stream."""
    return any(a.status == AffectStatus.affected and a.decided_by == "automatic" for a in incident.affects)


def _check_approve_dismissal(incident: Incident, decision: ApproveDismissalDecision) -> None:
    pending = incident.pending_dismissal
    if pending is None:
        raise DecisionRejected("no dismissal is waiting for approval")
    if decision.by == pending.by:
        raise DecisionRejected(f"{decision.by} proposed this dismissal and cannot approve it; a second analyst must")


def _apply_approve_dismissal(incident: Incident, decision: ApproveDismissalDecision, now: datetime) -> None:
    pending = incident.pending_dismissal
    incident.pending_dismissal = None
    if decision.approved:
        _set_triage(incident, pending.decision, pending.duplicate_of, now)


def _check_major_incident(incident: Incident, decision: MajorIncidentDecision) -> None:
    current = incident.major_incident
    if decision.state == "requested" and current in (MajorIncidentState.requested, MajorIncidentState.approved):
        raise DecisionRejected(f"a Major Incident is already {current.value}")
    if decision.state != "requested" and current != MajorIncidentState.requested:
        raise DecisionRejected(f"`{decision.state}` needs a pending Major Incident request; the state is {current.value}")


def _apply_major_incident(incident: Incident, decision: MajorIncidentDecision, now: datetime) -> None:
    incident.major_incident = MajorIncidentState(decision.state)
    if decision.state == "approved":
        incident.major_incident_at = now
        incident.statement_approvals = {}


def _check_approve_statement(incident: Incident) -> None:
    if incident.major_incident != MajorIncidentState.approved:
        raise DecisionRejected("statement approvals apply to approved Major Incidents only")
    if not incident.statement:
        raise DecisionRejected("there is no statement to approve yet; the assessor sets it with `assess`")


def _check_assess(incident: Incident, decision: AssessDecision) -> None:
    if decision.cvss_vector:
        score_vector(decision.cvss_vector)
    known = {f"{a.product}/{a.stream}" for a in incident.affects}
    unknown = [name for name in decision.product_impacts if name not in known]
    if unknown:
        raise DecisionRejected(f"`product_impacts` names unknown streams: {', '.join(unknown)}")
    if incident.impact is None and decision.impact is None:
        raise DecisionRejected("the first `assess` decision needs `impact`")


def _apply_assess(incident: Incident, decision: AssessDecision) -> None:
    if decision.impact is not None:
        incident.impact = decision.impact
    if decision.cvss_vector:
        incident.cvss_vector = decision.cvss_vector
    if decision.statement is not None and decision.statement != incident.statement:
        incident.statement_approvals = {}
    for field in ("cwe", "statement", "mitigation"):
        value = getattr(decision, field)
        if value is not None:
            setattr(incident, field, value)
    incident.product_impacts.update(decision.product_impacts)


def _apply_tracker_decision(incident: Incident, decision: TrackerDecision, now: datetime) -> None:
    tracker = find_tracker(incident, decision.tracker)
    tracker.decision = decision.decision
    tracker.resolved_at = now if tracker.resolved else None
    tracker.target_date = decision.target_date
    tracker.fixed_in = decision.fixed_in
    tracker.justification = decision.justification


def _check_close(incident: Incident) -> None:
    if incident.triage in DISMISSALS:
        return
    unresolved = checklist.open_items(incident, Phase.closure)
    unresolved = [item for item in unresolved if item != "closed with a resolution"]
    earlier = checklist.open_items(incident, Phase.triage) + checklist.open_items(incident, Phase.assessment)
    if earlier or unresolved:
        raise DecisionRejected("the checklist does not allow closing yet; open items: " + ", ".join(earlier + unresolved))


def on_hold(incident: Incident) -> bool:
    """Tell whether the deadline clocks stand still."""
    return bool(incident.holds) and incident.holds[-1].end is None


def _check_embargo(incident: Incident, decision: EmbargoDecision, now: datetime) -> None:
    embargo = incident.embargo
    if decision.action == EmbargoAction.set and embargo.embargoed:
        raise DecisionRejected("the incident is already under embargo; use `move` to change the public date")
    if decision.action == EmbargoAction.set and embargo.lifted_at is not None:
        raise DecisionRejected(f"the embargo was lifted at {embargo.lifted_at.isoformat()} and cannot be set again")
    if decision.action != EmbargoAction.set and not embargo.embargoed:
        raise DecisionRejected(f"`{decision.action.value}` needs an embargo in force, and there is none")
    if decision.public_date is not None and decision.public_date <= now:
        raise DecisionRejected(
            f"`public_date` {decision.public_date.isoformat()} is not in the future; use `lift_now` to lift at once"
        )


def _apply_embargo(incident: Incident, decision: EmbargoDecision, now: datetime) -> None:
    embargo = incident.embargo
    if decision.action in (EmbargoAction.set, EmbargoAction.move):
        embargo.embargoed = True
        embargo.public_date = decision.public_date
        embargo.readiness_checked = False
        for tracker in incident.trackers:
            tracker.public = False
        return
    because = "leaked" if decision.action == EmbargoAction.leaked else f"lifted early by {decision.by}"
    lift_embargo(incident, now, because)


def lift_embargo(incident: Incident, now: datetime, because: str) -> None:
    """Lift the embargo: the incident and its trackers become public."""
    embargo = incident.embargo
    embargo.embargoed = False
    embargo.lifted_at = now
    embargo.lifted_because = because
    for tracker in incident.trackers:
        tracker.public = True
