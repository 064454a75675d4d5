"""Checklist state of each phase, derived from the incident's facts alone."""

from __future__ import annotations

from models.incident import ChecklistItem, Incident, Phase, TriageOutcome
from models.records import AffectStatus

ADVISORY_OUTPUT = "advisory"


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
    return [
        _item(Phase.triage, "intake recorded", bool(incident.sources), _sources_detail(incident)),
        _item(Phase.triage, "identifiers resolved", bool(incident.id), incident.id),
        _item(Phase.triage, "affected components matched", incident.matched, _match_detail(incident)),
        _item(Phase.triage, "triage decision made", decided, incident.triage or "waiting"),
    ]


def assessment_items(incident: Incident) -> list[ChecklistItem]:
    """Return the assessment checklist: impact, CVSS, trackers and their decisions."""
    affected = affected_streams(incident)
    tracked = {(t.product, t.stream) for t in incident.trackers}
    untracked = [f"{p}/{s}" for p, s in affected if (p, s) not in tracked]
    undecided = [t.id for t in incident.trackers if t.decision is None]
    return [
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


def closure_items(incident: Incident) -> list[ChecklistItem]:
    """Return the closure checklist: trackers resolved, advisory, resolution."""
    unresolved = [t.id for t in incident.trackers if not t.resolved]
    advisory = [path for path in incident.outputs if ADVISORY_OUTPUT in path]
    return [
        _item(
            Phase.closure,
            "all trackers resolved",
            bool(incident.trackers) and not unresolved,
            "open: " + ", ".join(unresolved) if unresolved else "all resolved",
        ),
        _item(Phase.closure, "advisory rendered", bool(advisory), advisory[0] if advisory else "missing"),
        _item(Phase.closure, "closed with a resolution", incident.resolution is not None, incident.resolution or ""),
    ]


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


def _sources_detail(incident: Incident) -> str:
    return ", ".join(source.file for source in incident.sources) or "waiting for a report"


def _match_detail(incident: Incident) -> str:
    if not incident.matched:
        return "waiting"
    counts: dict[str, int] = {}
    for affect in incident.affects:
        counts[affect.status.value] = counts.get(affect.status.value, 0) + 1
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no streams"
