"""Clock event handling: reminders, escalations, the embargo lift and the readiness check."""

from __future__ import annotations

from datetime import datetime

from irp import checklist
from irp.deadlines import ClockEvent, EventKind, resolve_recipients
from irp.decisions import lift_embargo
from models.incident import Deadline, DecisionRecord, Escalation, Incident, Phase
from models.policy import Policy
from models.steps import NotificationInput

SYSTEM = "irp"


def fire_event(event: ClockEvent, incident: Incident, policy: Policy, now: datetime) -> list[NotificationInput]:
    """Apply a due clock event to the incident and return the emails it calls for."""
    match event.kind:
        case EventKind.reminder:
            return [_remind(event, incident, policy, now)]
        case EventKind.escalation:
            return [_escalate(event, incident, policy, now)]
        case EventKind.embargo_lift:
            lift_embargo(incident, now, "public date reached")
            _log(incident, "embargo", "the public date was reached", now, {"lifted_at": now.isoformat()})
            return []
    return _check_readiness(incident, policy, now)


def embargo_too_long(incident: Incident, policy: Policy, now: datetime) -> NotificationInput:
    """Escalate an embargo request past the policy's maximum to the PSIRT lead."""
    public_date = incident.embargo.public_date
    lines = [
        f"The embargo of {incident.id} runs until {public_date.isoformat()}, longer than the "
        f"policy maximum of {policy.embargo.maximum}.",
        "Agree a shorter date with the reporter or record why this one stands.",
    ]
    return _notify(incident, policy, now, kind="embargo", deadline="embargo maximum", level=1,
                   name="PSIRT lead", groups=["psirt_lead"], key_suffix=public_date.isoformat(),
                   subject=f"[irp] {incident.id}: embargo longer than {policy.embargo.maximum}", lines=lines)


def _remind(event: ClockEvent, incident: Incident, policy: Policy, now: datetime) -> NotificationInput:
    deadline = _deadline(incident, event.deadline)
    deadline.reminded = True
    lines = [
        f"{incident.id}: the {deadline.name} deadline is due at {deadline.due.isoformat()} ({deadline.policy}).",
        _context(incident),
    ]
    return _notify(incident, policy, now, kind="reminder", deadline=deadline.name, level=0, name="reminder",
                   groups=["owner"], key_suffix=deadline.due.isoformat(),
                   subject=f"[irp] {incident.id}: {deadline.name} due {deadline.due:%Y-%m-%d %H:%M %Z}", lines=lines)


def _escalate(event: ClockEvent, incident: Incident, policy: Policy, now: datetime) -> NotificationInput:
    deadline = _deadline(incident, event.deadline)
    level = policy.escalation[event.level - 1]
    deadline.escalation_level = event.level
    deadline.last_escalated_at = event.at
    lines = [
        f"{incident.id}: the {deadline.name} deadline was due at {deadline.due.isoformat()} and is missed "
        f"({deadline.policy}).",
        f"Escalation level {event.level} of {len(policy.escalation)}: {level.name}.",
        _context(incident),
    ]
    return _notify(incident, policy, now, kind="escalation", deadline=deadline.name, level=event.level,
                   name=level.name, groups=level.notify, key_suffix=deadline.due.isoformat(),
                   subject=f"[irp] {incident.id}: {deadline.name} missed, escalated to {level.name}", lines=lines)


def _check_readiness(incident: Incident, policy: Policy, now: datetime) -> list[NotificationInput]:
    incident.embargo.readiness_checked = True
    missing = _missing_for_publication(incident)
    _log(incident, "readiness_check", "ready" if not missing else "missing: " + ", ".join(missing), now, {})
    if not missing:
        return []
    lines = [
        f"The embargo of {incident.id} lifts at {incident.embargo.public_date.isoformat()}, "
        "and the incident is not ready to publish.",
        "Missing: " + "; ".join(missing) + ".",
        "Nothing incomplete will be published: decide the open items or move the public date.",
    ]
    return [_notify(incident, policy, now, kind="readiness", deadline="embargo readiness", level=1,
                    name="PSIRT lead", groups=["psirt_lead"], key_suffix=incident.embargo.public_date.isoformat(),
                    subject=f"[irp] {incident.id}: not ready for the public date", lines=lines)]


def _missing_for_publication(incident: Incident) -> list[str]:
    if incident.phase == Phase.triage:
        return ["triage decision"]
    missing = checklist.open_items(incident, Phase.assessment)
    unresolved = [t.id for t in incident.trackers if not t.resolved]
    if unresolved:
        missing.append("resolved trackers (" + ", ".join(unresolved) + ")")
    return missing


def _notify(incident: Incident, policy: Policy, now: datetime, *, kind: str, deadline: str, level: int, name: str,
            groups: list[str], key_suffix: str, subject: str, lines: list[str]) -> NotificationInput:
    recipients = resolve_recipients(groups, incident, deadline, policy)
    incident.escalations.append(Escalation(deadline=deadline, level=level, name=name, at=now, recipients=recipients))
    _log(incident, kind, subject, now, {"deadline": deadline, "level": level, "recipients": recipients})
    return NotificationInput(
        key=f"{incident.id}-{kind}-{deadline}-{level}-{key_suffix}",
        incident_id=incident.id,
        kind=kind,
        subject=subject,
        recipients=recipients,
        lines=lines,
        notifications=policy.notifications,
    )


def _log(incident: Incident, signal: str, reason: str, now: datetime, details: dict) -> None:
    incident.decisions.append(DecisionRecord(signal=signal, by=SYSTEM, reason=reason, at=now, details=details))


def _context(incident: Incident) -> str:
    """Describe the incident without embargoed details."""
    if incident.embargo.embargoed:
        return f"Phase: {incident.phase.value}. Details are under embargo; open the incident in irp to read them."
    title = incident.title or "untitled"
    return f"Phase: {incident.phase.value}. Title: {title}. Impact: {incident.impact or 'not set'}."


def _deadline(incident: Incident, name: str) -> Deadline:
    return next(deadline for deadline in incident.deadlines if deadline.name == name)
