"""Decision permissions: the roles each decision needs, from the policy's people and stream owners."""

from __future__ import annotations

from models.decisions import ApproveStatementDecision, Decision, MajorIncidentDecision, TrackerDecision
from models.incident import Incident
from models.policy import Policy

LEAD = "psirt_lead"

# Roles that may take each decision besides the PSIRT lead, who may take any
# decision except a legal or communications approval.
SIGNAL_ROLES: dict[str, set[str]] = {
    "triage": {"triage"},
    "approve_dismissal": {"triage"},
    "assess": {"assessor"},
    "tracker_decision": {"assessor"},
    "embargo": set(),
    "major_incident": {"triage", "assessor"},
    "assign": {"triage"},
    "hold": {"triage", "assessor"},
    "resume": {"triage", "assessor"},
    "close": {"triage"},
    "comment": {"triage", "assessor", "legal", "communications"},
}


class RoleMissing(Exception):
    """The person who decided lacks the role the decision needs."""


def check_role(policy: Policy | None, incident: Incident, signal: str, decision: Decision) -> None:
    """Raise `RoleMissing` unless the policy lets `decision.by` take this decision."""
    if policy is None or not policy.roles.enforced:
        return
    roles = set(policy.roles.people.get(decision.by, []))

    if isinstance(decision, ApproveStatementDecision):
        if decision.role not in roles:
            raise RoleMissing(f"{decision.by} does not have the {decision.role} role, so cannot approve as {decision.role}")
        return
    if LEAD in roles:
        return
    if isinstance(decision, MajorIncidentDecision) and decision.state != "requested":
        raise RoleMissing(f"only the PSIRT lead may set a Major Incident {decision.state}; {decision.by} is not {LEAD}")
    if isinstance(decision, TrackerDecision):
        _check_owner(policy, incident, decision, roles)
        return

    allowed = SIGNAL_ROLES.get(signal, set())
    if not roles & allowed:
        needed = " or ".join(sorted(allowed | {LEAD}))
        held = ", ".join(sorted(roles)) or "no role"
        raise RoleMissing(f"`{signal}` needs the {needed} role; {decision.by} has {held}")


def _check_owner(policy: Policy, incident: Incident, decision: TrackerDecision, roles: set[str]) -> None:
    from irp.decisions import find_tracker

    tracker = find_tracker(incident, decision.tracker)
    stream = f"{tracker.product}/{tracker.stream}"
    owners = policy.roles.owners.get(stream)
    if owners is not None:
        if decision.by not in owners:
            raise RoleMissing(f"{decision.by} is not an engineering owner of {stream} (owners: {', '.join(owners)})")
        return
    if "assessor" not in roles:
        raise RoleMissing(f"{stream} lists no engineering owners, so `tracker_decision` needs the assessor or {LEAD} role")
