"""The Markdown that the Temporal UI shows as an incident's current details."""

from __future__ import annotations

from models.incident import IncidentStatus

RECENT_REJECTIONS = 5
DETAILS_LIMIT = 18_000


def current_details(status: IncidentStatus) -> str:
    """Render phase, checklist, pending decisions and rejections as Markdown."""
    lines = [f"## {status.id}: {status.phase.value}", ""]
    lines += [f"- impact: {status.impact or 'not set'}", f"- owner: {status.owner or 'unassigned'}"]
    if status.resolution:
        lines.append(f"- resolution: {status.resolution}")

    lines += ["", "### Checklist", ""]
    for item in status.checklist:
        mark = "x" if item.done else " "
        lines.append(f"- [{mark}] {item.phase.value}: {item.item} ({_cell(item.detail)})")

    if status.pending:
        lines += ["", "### Waiting for", ""]
        lines += [f"- {pending}" for pending in status.pending]

    if status.affects:
        lines += ["", "### Streams", "", "| stream | status | tracker |", "|---|---|---|"]
        tracker_by_stream = {(t.product, t.stream): t for t in status.trackers}
        for affect in status.affects:
            tracker = tracker_by_stream.get((affect.product, affect.stream))
            tracker_cell = f"{tracker.id} {tracker.decision or 'undecided'}" if tracker else ""
            lines.append(f"| {_cell(affect.product)}/{_cell(affect.stream)} | {affect.status.value} | {tracker_cell} |")

    if status.rejections:
        lines += ["", f"### Rejected decisions ({len(status.rejections)})", ""]
        for rejection in status.rejections[-RECENT_REJECTIONS:]:
            who = f" by {_cell(rejection.by)}" if rejection.by else ""
            lines.append(f"- `{rejection.signal}`{who}: {_cell(rejection.reason)}")

    return "\n".join(lines)[:DETAILS_LIMIT]


def _cell(text: str) -> str:
    """Keep untrusted text on one line and out of Markdown table syntax."""
    return text.replace("\n", " ").replace("|", "\\|")[:300]
