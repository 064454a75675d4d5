"""Deadlines and the clock events they call for, derived from the incident and the policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from irp.calendar import add_duration, fraction_of
from models.incident import Deadline, DeadlineState, Impact, Incident, MajorIncidentState, Tracker
from models.policy import Duration, Policy

TRIAGE = "triage"
APPROVAL_PREFIX = "statement approval "
STATEMENT_ROLES = ("legal", "communications")


class EventKind(StrEnum):
    """Kind of clock event."""

    reminder = "reminder"
    escalation = "escalation"
    embargo_lift = "embargo lift"
    readiness_check = "readiness check"


@dataclass(frozen=True)
class ClockEvent:
    """Something the incident must do at an instant."""

    at: datetime
    kind: EventKind
    deadline: str = ""
    level: int = 0

    @property
    def summary(self) -> str:
        """Return the timer summary the Temporal UI shows, e.g. `triage due`."""
        match self.kind:
            case EventKind.reminder:
                return f"{self.deadline} reminder"
            case EventKind.escalation if self.level == 1:
                return f"{self.deadline} due"
            case EventKind.escalation:
                return f"{self.deadline} escalation level {self.level}"
            case EventKind.embargo_lift:
                return "embargo lifts"
        return "embargo readiness check"


def plan_deadlines(incident: Incident, policy: Policy, now: datetime) -> None:
    """Recompute every deadline from the incident's facts, keeping reminders and escalations."""
    previous = {deadline.name: deadline for deadline in incident.deadlines}
    planned = []
    if incident.opened_at is not None:
        planned.append(_triage_deadline(incident, policy))
    planned += [_fix_deadline(incident, policy, tracker) for tracker in incident.trackers if _fix_clock_runs(incident)]
    if incident.major_incident == MajorIncidentState.approved and incident.major_incident_at is not None:
        planned += [_approval_deadline(incident, policy, role) for role in STATEMENT_ROLES]

    incident.deadlines = []
    for deadline in planned:
        deadline.planned_due = deadline.due
        earlier = previous.get(deadline.name)
        if earlier is not None and earlier.planned_due == deadline.due:
            deadline.reminded = earlier.reminded
            deadline.escalation_level = earlier.escalation_level
            deadline.last_escalated_at = earlier.last_escalated_at
        _shift_by_holds(deadline, incident, now)
        deadline.state = _state(deadline, incident, now)
        incident.deadlines.append(deadline)


def due_events(incident: Incident, policy: Policy) -> list[ClockEvent]:
    """Return every clock event still ahead or overdue, earliest first."""
    events = _embargo_events(incident, policy)
    if not _on_hold(incident):
        for deadline in incident.deadlines:
            events += _deadline_events(deadline, policy)
    return sorted(events, key=lambda event: (event.at, event.level))


def next_event(incident: Incident, policy: Policy) -> ClockEvent | None:
    """Return the earliest clock event, or None when no clock runs."""
    events = due_events(incident, policy)
    return events[0] if events else None


def at_risk(incident: Incident) -> bool:
    """Tell whether any open deadline is past its reminder or missed."""
    return any(d.state == DeadlineState.missed or (d.reminded and d.met_at is None) for d in incident.deadlines)


def next_due(incident: Incident) -> datetime | None:
    """Return the earliest due instant of an open deadline."""
    open_dues = [d.due for d in incident.deadlines if d.met_at is None]
    return min(open_dues) if open_dues else None


def escalation_level(incident: Incident) -> int:
    """Return the highest ladder level any open deadline reached."""
    return max((d.escalation_level for d in incident.deadlines if d.met_at is None), default=0)


def resolve_recipients(groups: list[str], incident: Incident, deadline_name: str, policy: Policy) -> list[str]:
    """Turn `owner`, recipient groups and addresses into a sorted list of addresses."""
    addresses: set[str] = set()
    for group in groups:
        if "@" in group:
            addresses.add(group)
        elif group == "owner":
            addresses.update(_owner_addresses(incident, deadline_name, policy))
        else:
            addresses.update(policy.recipients.get(group, []))
    return sorted(addresses)


def _triage_deadline(incident: Incident, policy: Policy) -> Deadline:
    start = incident.opened_at
    due = add_duration(start, policy.triage_deadline, policy.calendar)
    return Deadline(
        name=TRIAGE,
        started_at=start,
        due=due,
        reminder_at=fraction_of(start, due, policy.reminder_fraction),
        met_at=incident.triaged_at,
        policy=f"triage: {policy.triage_deadline}",
    )


def _approval_deadline(incident: Incident, policy: Policy, role: str) -> Deadline:
    start = incident.major_incident_at
    due = add_duration(start, policy.sla.statement_approval, policy.calendar)
    approval = incident.statement_approvals.get(role)
    return Deadline(
        name=f"{APPROVAL_PREFIX}{role}",
        started_at=start,
        due=due,
        reminder_at=fraction_of(start, due, policy.reminder_fraction),
        met_at=approval.at if approval is not None and approval.approved else None,
        policy=f"statement_approval: {policy.sla.statement_approval}",
    )


def _fix_clock_runs(incident: Incident) -> bool:
    return incident.impact is not None and incident.opened_at is not None


def _fix_deadline(incident: Incident, policy: Policy, tracker: Tracker) -> Deadline:
    start = _fix_clock_start(incident)
    impact = _stream_impact(incident, tracker)
    duration, rule = _time_to_fix(policy, tracker, impact)
    if incident.major_incident == MajorIncidentState.approved:
        duration, rule = policy.sla.major_incident, f"major_incident: {policy.sla.major_incident}"
    due = add_duration(start, duration, policy.calendar)
    return Deadline(
        name=f"fix {tracker.id}",
        started_at=start,
        due=due,
        reminder_at=fraction_of(start, due, policy.reminder_fraction),
        met_at=tracker.resolved_at if tracker.resolved else None,
        policy=rule,
    )


def _fix_clock_start(incident: Incident) -> datetime:
    """Start fix clocks at the later of the report and the embargo lift."""
    embargo = incident.embargo
    lift = embargo.lifted_at or (embargo.public_date if embargo.embargoed else None)
    return max(incident.opened_at, lift) if lift else incident.opened_at


def _stream_impact(incident: Incident, tracker: Tracker) -> Impact:
    own = incident.product_impacts.get(f"{tracker.product}/{tracker.stream}")
    return own.impact if own else incident.impact


def _time_to_fix(policy: Policy, tracker: Tracker, impact: Impact) -> tuple[Duration, str]:
    table_name = "compliance_priority" if tracker.compliance_priority else "standard"
    duration = getattr(policy.sla, table_name).for_impact(impact)
    return duration, f"{table_name} {impact.value}: {duration}"


def _shift_by_holds(deadline: Deadline, incident: Incident, now: datetime) -> None:
    """Move a deadline later by the time its clock stood on hold."""
    held = timedelta(0)
    for hold in incident.holds:
        end = hold.end or now
        if deadline.met_at is not None:
            end = min(end, deadline.met_at)
        start = max(hold.start, deadline.started_at)
        if end > start:
            held += end - start
    deadline.due += held
    deadline.reminder_at += held


def _state(deadline: Deadline, incident: Incident, now: datetime) -> DeadlineState:
    if deadline.met_at is not None:
        return DeadlineState.met
    if _on_hold(incident):
        return DeadlineState.on_hold
    if deadline.escalation_level > 0 or now >= deadline.due:
        return DeadlineState.missed
    return DeadlineState.pending


def _on_hold(incident: Incident) -> bool:
    return bool(incident.holds) and incident.holds[-1].end is None


def _deadline_events(deadline: Deadline, policy: Policy) -> list[ClockEvent]:
    if deadline.met_at is not None:
        return []
    events = []
    if not deadline.reminded and deadline.escalation_level == 0 and deadline.reminder_at < deadline.due:
        events.append(ClockEvent(at=deadline.reminder_at, kind=EventKind.reminder, deadline=deadline.name))
    level = deadline.escalation_level + 1
    if level <= len(policy.escalation):
        previous = deadline.due if level == 1 else deadline.last_escalated_at
        at = add_duration(previous, policy.escalation[level - 1].after, policy.calendar)
        events.append(ClockEvent(at=at, kind=EventKind.escalation, deadline=deadline.name, level=level))
    return events


def _embargo_events(incident: Incident, policy: Policy) -> list[ClockEvent]:
    embargo = incident.embargo
    if not embargo.embargoed or embargo.public_date is None:
        return []
    events = [ClockEvent(at=embargo.public_date, kind=EventKind.embargo_lift)]
    if not embargo.readiness_checked:
        check_at = embargo.public_date - policy.embargo.readiness_lead.length
        events.append(ClockEvent(at=check_at, kind=EventKind.readiness_check))
    return events


def exceeds_embargo_maximum(incident: Incident, policy: Policy, now: datetime) -> bool:
    """Tell whether the public date lies further ahead than the policy allows."""
    public_date = incident.embargo.public_date
    if public_date is None:
        return False
    return public_date > add_duration(now, policy.embargo.maximum, policy.calendar)


def _owner_addresses(incident: Incident, deadline_name: str, policy: Policy) -> list[str]:
    if deadline_name.startswith(APPROVAL_PREFIX):
        role = deadline_name.removeprefix(APPROVAL_PREFIX)
        people = [person for person, roles in policy.roles.people.items() if role in roles and "@" in person]
        return people or policy.recipients.get(role) or policy.recipients.get("owner", [])
    owners = [t.owner for t in incident.trackers if deadline_name == f"fix {t.id}" and t.owner]
    if incident.owner:
        owners.append(incident.owner)
    addresses = [owner for owner in owners if "@" in owner]
    return addresses or policy.recipients.get("owner", [])
