"""Build the audit report of one incident from its history, offline."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter, default as default_converter

from irp.audit.replayer import ProbeResult, ReplayVerdict, replay, replay_with_probe
from irp.audit.report import (
    ActivityEntry,
    AuditDecision,
    AuditDeadline,
    AuditRejection,
    AuditReport,
    Finding,
    PhaseChange,
    SearchAttributeChange,
    SignalEntry,
    TimerEntry,
    UpdateEntry,
)
from models.incident import Incident, IncidentStatus
from models.policy import Policy
from workflows import search_attributes as attributes

CLOCK_TOLERANCE = timedelta(seconds=1)
"""How far a timer may fire from its re-derived clock event before it is a finding."""
MATCH_TOLERANCE = timedelta(seconds=1)
SAME_INSTANT = timedelta(microseconds=1)
"""How far a decision's `workflow.now()` may lie from its task's start event time and still be the same instant.

temporalio 1.35.0 turns the nanosecond event time into a float, which rounds it, but protobuf's `ToDatetime` truncates it."""
SYSTEM = "irp"
INTAKE_SIGNAL = "add_source"
REJECTED_SIGNAL = "rejected_decision"
EMBARGO_SIGNALS = ("embargo", "readiness_check")
CLOSE_STATUS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW: "continued_as_new",
}


async def build_report(
    history: WorkflowHistory, data_converter: DataConverter, verdict: ReplayVerdict | None = None
) -> AuditReport:
    """Build the audit report: events, decisions with their senders, deadlines, re-derived clocks and the replay verdict."""
    if verdict is None:
        verdict = await replay(history, data_converter)
    probe = await replay_with_probe(history, data_converter)
    walk = _HistoryWalk(history, data_converter)
    await walk.run()
    return await walk.report(verdict, probe)


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


class _HistoryWalk:
    """One pass over a history, collecting what the report shows."""

    def __init__(self, history: WorkflowHistory, data_converter: DataConverter) -> None:
        self.history = history
        self.converter = data_converter
        self.events = list(history.events)
        self.findings: list[Finding] = []
        self.signals: list[SignalEntry] = []
        self.updates: list[UpdateEntry] = []
        self.activities: dict[int, ActivityEntry] = {}
        self.timers: dict[str, TimerEntry] = {}
        self.timer_tasks: dict[str, int] = {}
        """The `WorkflowTaskStarted` event id of the task that started each timer, by timer id."""
        self.search_attributes: list[SearchAttributeChange] = []
        self.policy: Policy | None = None
        self.result: IncidentStatus | None = None
        self.status = "running"
        self.closed_at: datetime | None = None
        self.close_reason: str | None = None
        self.task_starts = self._completed_task_starts()

    def _completed_task_starts(self) -> list[tuple[int, int, datetime]]:
        """Return (started id, completed id, started time) of every workflow task that completed."""
        started: list[HistoryEvent] = []
        tasks = []
        for event in self.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started.append(event)
            elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and started:
                tasks.append((started[-1].event_id, event.event_id, _time(started[-1])))
        return tasks

    def workflow_time_after(self, event_id: int) -> datetime | None:
        """Return the workflow time of the first completed task that started after an event: when a signal was applied."""
        index = bisect.bisect_right([task[0] for task in self.task_starts], event_id)
        return self.task_starts[index][2] if index < len(self.task_starts) else None

    def task_of_command(self, completed_id: int) -> tuple[int, int, datetime] | None:
        """Return (started id, completed id, started time) of the task whose completion recorded a command."""
        # The time-skipping server records the task's started event id here instead of the completed one.
        candidates = [task for task in self.task_starts if task[0] <= completed_id]
        return candidates[-1] if candidates else None

    def workflow_time_of_command(self, completed_id: int) -> datetime | None:
        """Return the workflow time of the task whose completion recorded a command."""
        task = self.task_of_command(completed_id)
        return task[2] if task else None

    async def decode(self, payloads: list[Payload], type_hint: type | None = None, where: str = "", event_id: int | None = None) -> Any:
        """Decode the first payload, recording a finding instead of raising when it cannot be decoded."""
        if not payloads:
            return None
        try:
            values = await self.converter.decode(payloads, [type_hint] * len(payloads) if type_hint else None)
        except Exception as error:  # a wrong key, a changed model or a corrupt payload must not stop the audit
            self.findings.append(Finding(kind="undecodable payload", message=f"{where}: {error}", event_id=event_id))
            return None
        return values[0] if len(values) == 1 else values

    async def summary(self, event: HistoryEvent) -> str | None:
        if not event.HasField("user_metadata") or not event.user_metadata.HasField("summary"):
            return None
        value = await self.decode([event.user_metadata.summary], str, "summary", event.event_id)
        return value if isinstance(value, str) else None

    async def run(self) -> None:
        for event in self.events:
            handler = getattr(self, "_on_" + EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower(), None)
            if handler is not None:
                await handler(event)

    async def _on_workflow_execution_signaled(self, event: HistoryEvent) -> None:
        attributes_ = event.workflow_execution_signaled_event_attributes
        value = await self.decode(list(attributes_.input.payloads), None, f"signal {attributes_.signal_name}", event.event_id)
        self.signals.append(
            SignalEntry(
                event_id=event.event_id,
                name=attributes_.signal_name,
                received_at=_time(event),
                identity=attributes_.identity,
                input=_summarise_input(attributes_.signal_name, value),
            )
        )

    async def _on_workflow_execution_update_accepted(self, event: HistoryEvent) -> None:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        value = await self.decode(list(request.input.args.payloads), None, f"update {request.input.name}", event.event_id)
        self.updates.append(
            UpdateEntry(
                event_id=event.event_id,
                update_id=request.meta.update_id,
                name=request.input.name,
                identity=request.meta.identity,
                accepted_at=self.workflow_time_of_command(event.event_id) or _time(event),
                input=value,
            )
        )

    async def _on_workflow_execution_update_completed(self, event: HistoryEvent) -> None:
        completed = event.workflow_execution_update_completed_event_attributes
        for update in self.updates:
            if update.update_id == completed.meta.update_id:
                if completed.outcome.HasField("failure"):
                    update.outcome = "failed"
                    update.failure = await self._failure_message(completed.outcome.failure, event.event_id)
                else:
                    update.outcome = "completed"

    async def _on_activity_task_scheduled(self, event: HistoryEvent) -> None:
        scheduled = event.activity_task_scheduled_event_attributes
        self.activities[event.event_id] = ActivityEntry(
            event_id=event.event_id,
            activity_type=scheduled.activity_type.name,
            summary=await self.summary(event),
            scheduled_at=_time(event),
        )

    async def _on_activity_task_started(self, event: HistoryEvent) -> None:
        started = event.activity_task_started_event_attributes
        if entry := self.activities.get(started.scheduled_event_id):
            entry.attempt = started.attempt

    async def _on_activity_task_completed(self, event: HistoryEvent) -> None:
        completed = event.activity_task_completed_event_attributes
        entry = self._close_activity(completed.scheduled_event_id, event, "completed")
        if entry is not None and entry.activity_type == "load_policy":
            self.policy = await self.decode(list(completed.result.payloads), Policy, "load_policy result", event.event_id)

    async def _on_activity_task_failed(self, event: HistoryEvent) -> None:
        failed = event.activity_task_failed_event_attributes
        if entry := self._close_activity(failed.scheduled_event_id, event, "failed"):
            entry.failure = await self._failure_message(failed.failure, event.event_id)

    async def _on_activity_task_timed_out(self, event: HistoryEvent) -> None:
        self._close_activity(event.activity_task_timed_out_event_attributes.scheduled_event_id, event, "timed_out")

    async def _on_activity_task_canceled(self, event: HistoryEvent) -> None:
        self._close_activity(event.activity_task_canceled_event_attributes.scheduled_event_id, event, "canceled")

    def _close_activity(self, scheduled_id: int, event: HistoryEvent, outcome: str) -> ActivityEntry | None:
        entry = self.activities.get(scheduled_id)
        if entry is not None:
            entry.outcome = outcome
            entry.closed_at = _time(event)
        return entry

    async def _on_timer_started(self, event: HistoryEvent) -> None:
        started = event.timer_started_event_attributes
        task = self.task_of_command(started.workflow_task_completed_event_id)
        at = task[2] if task else _time(event)
        if task is not None:
            self.timer_tasks[started.timer_id] = task[0]
        duration = started.start_to_fire_timeout.ToTimedelta()
        self.timers[started.timer_id] = TimerEntry(
            event_id=event.event_id,
            timer_id=started.timer_id,
            summary=await self.summary(event),
            started_at=at,
            duration_seconds=duration.total_seconds(),
            fires_at=at + duration,
        )

    async def _on_timer_fired(self, event: HistoryEvent) -> None:
        if timer := self.timers.get(event.timer_fired_event_attributes.timer_id):
            timer.outcome, timer.closed_at = "fired", _time(event)

    async def _on_timer_canceled(self, event: HistoryEvent) -> None:
        if timer := self.timers.get(event.timer_canceled_event_attributes.timer_id):
            timer.outcome, timer.closed_at = "canceled", _time(event)

    async def _on_upsert_workflow_search_attributes(self, event: HistoryEvent) -> None:
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        values = {}
        for name, payload in sorted(fields.items()):
            try:
                values[name] = default_converter().payload_converter.from_payload(payload)
            except Exception as error:  # search attributes are plain JSON, so this means a corrupt history
                self.findings.append(Finding(kind="undecodable payload", message=f"search attribute {name}: {error}", event_id=event.event_id))
        at = self.workflow_time_of_command(event.upsert_workflow_search_attributes_event_attributes.workflow_task_completed_event_id)
        self.search_attributes.append(SearchAttributeChange(event_id=event.event_id, at=at or _time(event), values=values))

    async def _on_workflow_execution_completed(self, event: HistoryEvent) -> None:
        self._close(event)
        completed = event.workflow_execution_completed_event_attributes
        self.result = await self.decode(list(completed.result.payloads), IncidentStatus, "workflow result", event.event_id)

    async def _on_workflow_execution_failed(self, event: HistoryEvent) -> None:
        self._close(event)
        self.close_reason = await self._failure_message(event.workflow_execution_failed_event_attributes.failure, event.event_id)

    async def _on_workflow_execution_terminated(self, event: HistoryEvent) -> None:
        self._close(event)
        terminated = event.workflow_execution_terminated_event_attributes
        self.close_reason = f"terminated by {terminated.identity or 'an unknown client'}: {terminated.reason}"

    async def _on_workflow_execution_canceled(self, event: HistoryEvent) -> None:
        self._close(event)

    async def _on_workflow_execution_timed_out(self, event: HistoryEvent) -> None:
        self._close(event)

    async def _on_workflow_execution_continued_as_new(self, event: HistoryEvent) -> None:
        self._close(event)
        self.close_reason = f"continued as new run {event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id}"

    def _close(self, event: HistoryEvent) -> None:
        self.status = CLOSE_STATUS[event.event_type]
        self.closed_at = _time(event)

    async def _failure_message(self, failure: Message, event_id: int) -> str:
        try:
            error = await self.converter.decode_failure(failure)
        except Exception as decode_error:  # keep the audit going with what the failure shows in plaintext
            self.findings.append(Finding(kind="undecodable payload", message=f"failure: {decode_error}", event_id=event_id))
            return failure.message
        return str(error) or type(error).__name__

    async def report(self, verdict: ReplayVerdict, probe: ProbeResult) -> AuditReport:
        first = self.events[0]
        started = first.workflow_execution_started_event_attributes
        incident, source = self._final_state(probe)
        report = AuditReport(
            incident_id=self.history.workflow_id,
            run_id=self.history.run_id,
            workflow_type=started.workflow_type.name,
            status=self.status,
            started_at=_time(first),
            closed_at=self.closed_at,
            close_reason=self.close_reason,
            event_count=len(self.events),
            last_event_at=_time(self.events[-1]),
            started_by=started.identity,
            policy_version=self.policy.version if self.policy else None,
            state_source=source,
            replay=verdict,
            phase_changes=self._phase_changes(),
            signals=self.signals,
            updates=self.updates,
            activities=list(self.activities.values()),
            timers=list(self.timers.values()),
            search_attributes=self.search_attributes,
            findings=self.findings,
        )
        if incident is not None:
            self._add_incident(report, incident)
        self._check_clocks(report, probe)
        self._compare_result_with_replay(report, probe)
        return report

    def _final_state(self, probe: ProbeResult) -> tuple[Incident | None, str | None]:
        if self.result is not None:
            return self.result, "workflow result"
        if probe.incident is not None:
            return probe.incident, "replay"
        return None, None

    def _phase_changes(self) -> list[PhaseChange]:
        changes: list[PhaseChange] = []
        for change in self.search_attributes:
            phase = change.values.get(attributes.PHASE.name)
            if isinstance(phase, list):
                phase = phase[0] if phase else None
            if phase and (not changes or changes[-1].phase != phase):
                changes.append(PhaseChange(phase=phase, at=change.at))
        return changes

    def _add_incident(self, report: AuditReport, incident: Incident) -> None:
        report.phase = incident.phase.value
        report.resolution = incident.resolution
        report.policy_version = report.policy_version or incident.policy_version

        senders = _Senders(self)
        report.decisions = [senders.attribute_decision(record) for record in incident.decisions]
        report.rejections = [senders.attribute_rejection(rejection) for rejection in incident.rejections]
        report.deadlines = [
            AuditDeadline(
                name=deadline.name,
                policy=deadline.policy,
                started_at=deadline.started_at,
                due=deadline.due,
                state=deadline.state.value,
                met_at=deadline.met_at,
                on_time=None if deadline.met_at is None else deadline.met_at <= deadline.due,
                reminded=deadline.reminded,
                escalation_level=deadline.escalation_level,
            )
            for deadline in incident.deadlines
        ]

        report.escalations = list(incident.escalations)
        report.holds = list(incident.holds)
        report.embargo = incident.embargo
        report.embargo_events = [decision for decision in report.decisions if decision.signal in EMBARGO_SIGNALS]
        report.outputs = list(incident.outputs)

        for decision in report.decisions:
            if decision.channel == "workflow" and decision.by != SYSTEM:
                report.findings.append(
                    Finding(
                        kind="unattributed decision",
                        message=f"{decision.signal} by {decision.by} at {decision.at.isoformat()} matches no signal or update in the history",
                    )
                )

    def _check_clocks(self, report: AuditReport, probe: ProbeResult) -> None:
        """Compare every timer with the next clock event re-derived from the state of the workflow task that started it."""
        if not probe.clock_events:
            if report.timers:
                report.findings.append(
                    Finding(kind="clock not re-derived", message="the replay recorded no clock events, so no timer was checked")
                )
            return
        for timer in report.timers:
            task = self.timer_tasks.get(timer.timer_id)
            if task is None or task not in probe.clock_events:
                report.findings.append(
                    Finding(
                        kind="clock mismatch",
                        message=f"timer {timer.timer_id} ({timer.summary}) started in a workflow task where the replay "
                        "had no incident with a loaded policy, so its clock cannot be re-derived",
                        event_id=timer.event_id,
                    )
                )
                continue
            expected = probe.clock_events[task]
            if expected is None:
                report.findings.append(
                    Finding(
                        kind="clock mismatch",
                        message=f"timer {timer.timer_id} ({timer.summary}) fires at {timer.fires_at.isoformat()}, "
                        "but the recorded policy calls for no clock event then",
                        event_id=timer.event_id,
                    )
                )
                continue
            timer.expected_at, timer.expected_summary = expected.at, expected.summary
            if abs(expected.at - timer.fires_at) > CLOCK_TOLERANCE:
                report.findings.append(
                    Finding(
                        kind="clock mismatch",
                        message=f"timer {timer.timer_id} ({timer.summary}) fires at {timer.fires_at.isoformat()}, "
                        f"but the recorded policy {report.policy_version} puts the {expected.summary} at {expected.at.isoformat()}",
                        event_id=timer.event_id,
                    )
                )

    def _compare_result_with_replay(self, report: AuditReport, probe: ProbeResult) -> None:
        if self.result is None or probe.incident is None or not probe.verdict.ok:
            return
        recorded = [(d.signal, d.by, d.at) for d in self.result.decisions]
        replayed = [(d.signal, d.by, d.at) for d in probe.incident.decisions]
        if recorded != replayed:
            report.findings.append(
                Finding(
                    kind="result differs from replay",
                    message=f"the workflow result lists {len(recorded)} decisions, the replay of the same history {len(replayed)}; "
                    "the code that replays it no longer takes decisions as the code that ran it did",
                )
            )


class _Senders:
    """Match decision log entries to the signal or update events that carried them."""

    def __init__(self, walk: _HistoryWalk) -> None:
        self.candidates: list[dict[str, Any]] = []
        for signal in walk.signals:
            name = signal.name
            if name == REJECTED_SIGNAL and isinstance(signal.input, dict):
                name = f"{REJECTED_SIGNAL}:{signal.input.get('signal')}"
            self.candidates.append(
                {"name": name, "at": walk.workflow_time_after(signal.event_id), "identity": signal.identity,
                 "channel": "signal", "event_id": signal.event_id}
            )
        for update in walk.updates:
            signal_name = update.input.get("signal") if isinstance(update.input, dict) else update.name
            self.candidates.append(
                {"name": signal_name, "at": update.accepted_at, "identity": update.identity,
                 "channel": "update", "event_id": update.event_id}
            )
        self.candidates.sort(key=lambda candidate: candidate["event_id"])

    def _take(self, names: tuple[str, ...], at: datetime) -> dict[str, Any] | None:
        """Take the first sender applied at exactly this workflow time, else the first within the tolerance."""
        named = [candidate for candidate in self.candidates if candidate["name"] in names and candidate["at"] is not None]
        exact = [candidate for candidate in named if abs(candidate["at"] - at) <= SAME_INSTANT]
        close = [candidate for candidate in named if abs(candidate["at"] - at) <= MATCH_TOLERANCE]
        chosen = (exact or close or [None])[0]
        if chosen is not None:
            self.candidates.remove(chosen)
        return chosen

    def attribute_decision(self, record) -> AuditDecision:
        sender = self._take((record.signal,), record.at) if record.by != SYSTEM else None
        return AuditDecision(
            signal=record.signal,
            by=record.by,
            reason=record.reason,
            at=record.at,
            identity=sender["identity"] if sender else None,
            channel=sender["channel"] if sender else "workflow",
            event_id=sender["event_id"] if sender else None,
            details=record.details,
        )

    def attribute_rejection(self, rejection) -> AuditRejection:
        sender = self._take((rejection.signal, f"{REJECTED_SIGNAL}:{rejection.signal}"), rejection.at)
        return AuditRejection(
            signal=rejection.signal,
            reason=rejection.reason,
            at=rejection.at,
            by=rejection.by,
            identity=sender["identity"] if sender else None,
            channel=sender["channel"] if sender else "workflow",
            event_id=sender["event_id"] if sender else None,
            payload=rejection.payload,
        )


def _summarise_input(signal_name: str, value: Any) -> Any:
    """Keep a report's signal inputs short: a report delivered by intake is named by file and digest, not copied."""
    if signal_name == INTAKE_SIGNAL and isinstance(value, dict):
        return {"file": value.get("file"), "digest": value.get("digest"), "received_at": value.get("received_at")}
    return value
