"""The Markdown that the Temporal UI shows as an incident's current details."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.incident import IncidentStatus

RECENT_REJECTIONS = 5
DETAILS_LIMIT = 18_000


def current_details(status: IncidentStatus, now: datetime) -> str:
    """Render phase, checklist, deadlines, pending decisions and rejections as Markdown."""
    lines = [f"## {status.id}: {status.phase.value}", ""]
    lines += [f"- impact: {status.impact or 'not set'}", f"- owner: {status.owner or 'unassigned'}"]
    if status.resolution:
        lines.append(f"- resolution: {status.resolution}")
    embargo = status.embargo
    if embargo.embargoed:
        lines.append(f"- embargoed until {embargo.public_date.isoformat()} ({_time_left(embargo.public_date, now)})")
    elif embargo.lifted_at:
        lines.append(f"- embargo lifted at {embargo.lifted_at.isoformat()} ({embargo.lifted_because})")
    if status.holds and status.holds[-1].end is None:
        lines.append(f"- clocks on hold since {status.holds[-1].start.isoformat()}: {_cell(status.holds[-1].reason)}")

    lines += ["", "### Checklist", ""]
    for item in status.checklist:
        mark = "x" if item.done else " "
        lines.append(f"- [{mark}] {item.phase.value}: {item.item} ({_cell(item.detail)})")

    if status.deadlines:
        lines += ["", "### Deadlines", "", "| deadline | due | time left | state | escalation |", "|---|---|---|---|---|"]
        for deadline in status.deadlines:
            left = _time_left(deadline.due, now) if deadline.met_at is None else "met"
            level = str(deadline.escalation_level) if deadline.escalation_level else ""
            lines.append(f"| {deadline.name} | {deadline.due.isoformat(timespec='seconds')} | {left} | {deadline.state.value} | {level} |")

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


def _time_left(due: datetime, now: datetime) -> str:
    """Describe the time to an instant, or how long ago it passed, in the largest useful unit."""
    delta = due - now
    overdue = delta < timedelta(0)
    seconds = abs(int(delta.total_seconds()))
    if seconds >= 86400:
        amount = f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    elif seconds >= 3600:
        amount = f"{seconds // 3600} h {seconds % 3600 // 60} min"
    else:
        amount = f"{seconds // 60} min {seconds % 60} s"
    return f"overdue by {amount}" if overdue else f"{amount} left"


def _cell(text: str) -> str:
    """Keep untrusted text on one line and out of Markdown table syntax."""
    return text.replace("\n", " ").replace("|", "\\|")[:300]
