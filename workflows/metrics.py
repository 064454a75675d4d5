"""irp's own metrics, recorded from workflow code through Temporal's replay-safe metric meter.

Import this module inside `workflow.unsafe.imports_passed_through()`: the per-phase
counts live in this module, and the sandbox would give every workflow run its own
copy otherwise. Every function does nothing outside a workflow, during replay and in
read-only contexts (queries, update validators).
"""

from __future__ import annotations

import threading
from collections import Counter

from temporalio import workflow

from models.incident import Escalation, Impact, Incident, Phase, Rejection, Tracker

INCIDENTS_IN_PHASE = "irp_incidents_in_phase"
ESCALATIONS = "irp_escalations_total"
REJECTED_DECISIONS = "irp_rejected_decisions_total"
TIME_TO_TRIAGE = "irp_time_to_triage_seconds"
TIME_TO_FIX = "irp_time_to_fix_seconds"

DURATION_BUCKETS = [
    60.0,
    300.0,
    900.0,
    3_600.0,
    4 * 3_600.0,
    8 * 3_600.0,
    86_400.0,
    3 * 86_400.0,
    7 * 86_400.0,
    14 * 86_400.0,
    30 * 86_400.0,
    60 * 86_400.0,
    90 * 86_400.0,
    180 * 86_400.0,
    365 * 86_400.0,
]
"""Histogram buckets of the time-to-triage and time-to-fix metrics, in seconds: a minute to a year."""

KNOWN_SIGNALS = frozenset(
    {
        "add_source",
        "triage",
        "approve_dismissal",
        "assess",
        "tracker_decision",
        "embargo",
        "major_incident",
        "approve_statement",
        "assign",
        "hold",
        "resume",
        "exploited",
        "regulatory_report",
        "comment",
        "close",
    }
)
"""Signal names kept as label values; any other name, which a client can send freely, counts as `other`."""

EMBARGO_KINDS = {"embargo maximum": "embargo", "embargo readiness": "readiness"}
"""Kinds of the escalations that no deadline ladder sends, by the deadline name the clock gives them."""

OPEN_PHASES = frozenset(phase.value for phase in Phase if phase != Phase.closed)

# NOTE: the counts start at zero in every worker process, so after a restart an incident that
# leaves a phase it entered before can push its phase below zero, and a failed or terminated
# workflow stays counted. Visibility queries on IrpPhase give exact numbers.
_phase_counts: Counter[tuple[str, str, str]] = Counter()
_phase_counts_lock = threading.Lock()


def record_phase_change(old: Phase | str | None, new: Phase | str) -> None:
    """Move one incident from phase `old` (None when it starts) to `new` in `irp_incidents_in_phase`."""
    if not _recording():
        return
    info = workflow.info()
    gauge = workflow.metric_meter().create_gauge(
        INCIDENTS_IN_PHASE, "Open incidents per phase, as counted by this worker process since it started"
    )
    changes = [(str(old), -1)] if old is not None else []
    changes.append((str(new), +1))

    with _phase_counts_lock:
        for phase, change in changes:
            if phase not in OPEN_PHASES:
                continue
            key = (info.namespace, info.task_queue, phase)
            _phase_counts[key] += change
            gauge.set(_phase_counts[key], {"phase": phase})


def record_escalation(level: int, kind: str = "escalation") -> None:
    """Count one notification sent by a clock: a reminder (level 0), a ladder level, or an embargo or readiness escalation."""
    if not _recording():
        return
    counter = workflow.metric_meter().create_counter(
        ESCALATIONS, "Reminders and escalations sent, by ladder level and kind"
    )
    counter.add(1, {"level": str(level), "kind": kind})


def record_escalations(escalations: list[Escalation]) -> None:
    """Count each new entry of an incident's escalation list, naming an escalation by its deadline's kind."""
    for escalation in escalations:
        if escalation.level == 0:
            kind = "reminder"
        else:
            kind = EMBARGO_KINDS.get(escalation.deadline, "escalation")
        record_escalation(escalation.level, kind)


def record_rejections(rejections: list[Rejection]) -> None:
    """Count each new entry of an incident's rejection list."""
    for rejection in rejections:
        record_rejection(rejection.signal)


def record_rejection(signal: str) -> None:
    """Count one rejected decision under its signal name."""
    if not _recording():
        return
    counter = workflow.metric_meter().create_counter(REJECTED_DECISIONS, "Rejected decisions, by signal")
    counter.add(1, {"signal": signal if signal in KNOWN_SIGNALS else "other"})


def record_triage_time(seconds: float) -> None:
    """Record the time from the first report to the triage decision."""
    if not _recording() or seconds < 0:
        return
    histogram = workflow.metric_meter().create_histogram_float(
        TIME_TO_TRIAGE, "Time from the first report to the triage decision", "s"
    )
    histogram.record(seconds)


def record_fix_time(impact: Impact | str | None, seconds: float) -> None:
    """Record the time from a tracker's fix clock start to its final engineering decision, by impact."""
    if not _recording() or seconds < 0:
        return
    histogram = workflow.metric_meter().create_histogram_float(
        TIME_TO_FIX, "Time from the start of a tracker's fix clock to its final engineering decision", "s"
    )
    label = str(impact) if impact is not None and str(impact) in {i.value for i in Impact} else "unknown"
    histogram.record(seconds, {"impact": label})


def record_tracker_resolved(incident: Incident, tracker: Tracker) -> None:
    """Record a resolved tracker's time to fix, measured from its fix clock's start under the stream's impact."""
    if not tracker.resolved or tracker.resolved_at is None:
        return
    deadline = next((d for d in incident.deadlines if d.name == f"fix {tracker.id}"), None)
    started_at = deadline.started_at if deadline is not None else incident.opened_at
    if started_at is None:
        return
    own = incident.product_impacts.get(f"{tracker.product}/{tracker.stream}")
    impact = own.impact if own is not None else incident.impact
    record_fix_time(impact, (tracker.resolved_at - started_at).total_seconds())


def _recording() -> bool:
    """Tell whether a metric recorded now would count: in a workflow, not replaying, not read-only."""
    if not workflow.in_workflow():
        return False
    return not (workflow.unsafe.is_replaying() or workflow.unsafe.is_read_only())
