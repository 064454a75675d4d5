"""Checklist state of each phase, derived from the incident's facts alone."""

from __future__ import annotations

from models.incident import ChecklistItem, Incident, MajorIncidentState, Phase, TriageOutcome
from models.records import AffectStatus

ADVISORY_OUTPUT = "advisory"
STATEMENT_ROLES = ("legal", "communications")


def checklist(incident: Incident) -> list[ChecklistItem]:
    """Return every checklist item of the phases the incident has reached."""
    items = triage_items(incident)
    if incident.triage == TriageOutcome.affected:
        items += assessment_items(incident)
        items += closure_items(incident)
    return items


def triage_items(incident: Incident) -> list[ChecklistItem]:
    """Return the triage checklist: intake, identifiers, matching, decision."""
    decided = incident.triage is not None and incident.triage != TriageOutcome.needs_info
    items = [
        _item(Phase.triage, "intake recorded", bool(incident.sources), _sources_detail(incident)),
        _item(Phase.triage, "identifiers resolved", bool(incident.id), incident.id),
        _item(Phase.triage, "affected components matched", incident.matched, _match_detail(incident)),
        _item(Phase.triage, "triage decision made", decided, _triage_detail(incident)),
    ]
    pending = incident.pending_dismissal
    if pending is not None:
        detail = f"{pending.decision.value} by {pending.by} waits for approve_dismissal by another analyst"
        items.append(_item(Phase.triage, "dismissal approved by a second analyst", False, detail))
    return items


def assessment_items(incident: Incident) -> list[ChecklistItem]:
    """Return the assessment checklist: impact, CVSS, trackers and their decisions."""
    affected = affected_streams(incident)
    tracked = {(t.product, t.stream) for t in incident.trackers}
    untracked = [f"{p}/{s}" for p, s in affected if (p, s) not in tracked]
    undecided = [t.id for t in incident.trackers if t.decision is None]
    items = [
        _item(Phase.assessment, "impact set", incident.impact is not None, incident.impact or "missing"),
        _item(Phase.assessment, "CVSS vector scored", cvss_scored(incident), _cvss_detail(incident)),
        _item(
            Phase.assessment,
            "one tracker per affected stream",
            bool(affected) and not untracked,
            "missing: " + ", ".join(untracked) if untracked else f"{len(tracked)} filed",
        ),
        _item(
            Phase.assessment,
            "each tracker has an engineering decision",
            bool(incident.trackers) and not undecided,
            "waiting: " + ", ".join(undecided) if undecided else "all decided",
        ),
    ]
    if incident.major_incident == MajorIncidentState.requested:
        items.append(_item(Phase.assessment, "Major Incident request decided", False, "waiting for the PSIRT lead"))
    if incident.major_incident == MajorIncidentState.approved:
        items += major_incident_items(incident)
    return items


def major_incident_items(incident: Incident) -> list[ChecklistItem]:
    """Return what an approved Major Incident adds: statement, mitigation and their sign-offs."""
    items = [
        _item(Phase.assessment, "statement set", bool(incident.statement), "set" if incident.statement else "missing"),
        _item(Phase.assessment, "mitigation set", bool(incident.mitigation), "set" if incident.mitigation else "missing"),
    ]
    for role in STATEMENT_ROLES:
        approval = incident.statement_approvals.get(role)
        done = approval is not None and approval.approved
        detail = "waiting" if approval is None else f"{'approved' if approval.approved else 'refused'} by {approval.by}"
        items.append(_item(Phase.assessment, f"{role} approved the statement", done, detail))
    return items


def closure_items(incident: Incident) -> list[ChecklistItem]:
    """Return the closure checklist: trackers resolved, advisory, resolution."""
    unresolved = [t.id for t in incident.trackers if not t.resolved]
    advisory = [path for path in incident.outputs if ADVISORY_OUTPUT in path]
    items = [
        _item(
            Phase.closure,
            "all trackers resolved",
            bool(incident.trackers) and not unresolved,
            "open: " + ", ".join(unresolved) if unresolved else "all resolved",
        ),
        _item(Phase.closure, "embargo lifted", not incident.embargo.embargoed, _embargo_detail(incident)),
        _item(Phase.closure, "advisory rendered", bool(advisory), advisory[0] if advisory else "missing"),
        _item(Phase.closure, "closed with a resolution", incident.resolution is not None, incident.resolution or ""),
    ]
    return items


def _embargo_detail(incident: Incident) -> str:
    embargo = incident.embargo
    if embargo.embargoed:
        return f"until {embargo.public_date.isoformat()}"
    if embargo.lifted_at:
        return f"lifted at {embargo.lifted_at.isoformat()}"
    return "no embargo"


def phase_complete(incident: Incident, phase: Phase) -> bool:
    """Tell whether every item of one phase is satisfied."""
    return all(item.done for item in checklist(incident) if item.phase == phase)


def open_items(incident: Incident, phase: Phase) -> list[str]:
    """Return the unsatisfied items of one phase."""
    return [item.item for item in checklist(incident) if item.phase == phase and not item.done]


def affected_streams(incident: Incident) -> list[tuple[str, str]]:
    """Return (product, stream) of every stream marked affected."""
    return [(a.product, a.stream) for a in incident.affects if a.status == AffectStatus.affected]


def cvss_scored(incident: Incident) -> bool:
    """Tell whether the assessor's current vector has been scored."""
    return incident.cvss is not None and incident.cvss.vector == incident.cvss_vector


def _cvss_detail(incident: Incident) -> str:
    if cvss_scored(incident):
        return f"{incident.cvss.base_score} {incident.cvss.vector}"
    return "scoring" if incident.cvss_vector else "missing"


def _item(phase: Phase, item: str, done: bool, detail: str) -> ChecklistItem:
    return ChecklistItem(phase=phase, item=item, done=done, detail=str(detail))


def _triage_detail(incident: Incident) -> str:
    if incident.triage is not None:
        return incident.triage.value
    return "waiting for a second analyst" if incident.pending_dismissal else "waiting"


def _sources_detail(incident: Incident) -> str:
    return ", ".join(source.file for source in incident.sources) or "waiting for a report"


def _match_detail(incident: Incident) -> str:
    if not incident.matched:
        return "waiting"
    counts: dict[str, int] = {}
    for affect in incident.affects:
        counts[affect.status.value] = counts.get(affect.status.value, 0) + 1
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no streams"
