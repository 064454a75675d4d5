"""Combine the reports an incident received into one picture of the flaw."""

from __future__ import annotations

from models.records import RecordState, Report


def merge_reports(known: Report | None, new: Report, incident_id: str) -> Report:
    """Add what a new report contains to what earlier reports stated, erasing nothing."""
    if known is None:
        return new.model_copy(update={"aliases": _aliases(incident_id, [], new)})

    affected = known.affected + [entry for entry in new.affected if entry not in known.affected]
    metrics = known.metrics + [metric for metric in new.metrics if metric not in known.metrics]
    return known.model_copy(
        update={
            "state": _state(known, new, incident_id),
            "title": known.title or new.title,
            "description": new.description if new.id == incident_id and new.description else known.description or new.description,
            "published_at": known.published_at or new.published_at,
            "affected": affected,
            "metrics": metrics,
            "cwes": union(known.cwes, new.cwes),
            "references": union(known.references, new.references),
            "aliases": _aliases(incident_id, known.aliases, new),
            "related": union(known.related, new.related),
            "replaced_by": union(known.replaced_by, new.replaced_by),
            "known_exploited": known.known_exploited or new.known_exploited,
            "withdrawn_at": known.withdrawn_at or (new.withdrawn_at if new.id == incident_id else None),
            "reporter": known.reporter or new.reporter,
        }
    )


def _state(known: Report, new: Report, incident_id: str) -> RecordState:
    """Only the incident's own record can reject it; another source's rejection is its own affair."""
    if new.id == incident_id:
        return new.state
    return known.state


def _aliases(incident_id: str, known: list[str], new: Report) -> list[str]:
    return [alias for alias in union(known, [new.id, *new.aliases]) if alias != incident_id]


def union(first: list[str], second: list[str]) -> list[str]:
    """Return the first list followed by the items of the second it lacks, in order."""
    return first + [item for item in second if item not in first]
