"""The incident workflow: one reported flaw walking the plan's phases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from irp import checklist, deadlines
    from irp.clock import embargo_too_long, fire_event
    from irp.decisions import (
        check_decision,
        describe_errors,
        parse_decision,
        reject,
        take_decision,
    )
    from irp.details import current_details
    from irp.reports import merge_reports, union
    from models.decisions import DecisionRequest, EmbargoAction
    from models.incident import (
        Affect,
        CvssScore,
        DecisionRecord,
        Impact,
        Incident,
        IncidentInput,
        MajorIncidentState,
        IncidentStatus,
        IntakeSource,
        Phase,
        Rejection,
        SourceRef,
        Tracker,
        TriageOutcome,
    )
    from models.policy import Policy
    from models.publication import PublishCsafInput, PublishCsafResult
    from models.records import AffectStatus, RecordState
    from models.steps import (
        FileTrackersInput,
        FileTrackersResult,
        KeepReportInput,
        LoadPolicyInput,
        MatchInput,
        MatchResult,
        NotificationInput,
        NotificationResult,
        PublishTrackersInput,
        RecordTrackerDecisionInput,
        RenderInput,
        RenderResult,
        ScoreInput,
    )
    from workflows import metrics
    from workflows import search_attributes as attributes

# One options table per kind of step: quick database steps and slower rendering.
# Bad input is named non-retryable so it fails the step at once instead of looping.
NON_RETRYABLE = ["InvalidStepInput", "InvalidReport"]
STEP_OPTIONS: dict[str, dict[str, Any]] = {
    "database": {
        "start_to_close_timeout": timedelta(seconds=30),
        "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30), non_retryable_error_types=NON_RETRYABLE),
    },
    "render": {
        "start_to_close_timeout": timedelta(minutes=2),
        "retry_policy": RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=NON_RETRYABLE),
    },
}

DECISION_DESCRIPTIONS = {
    "triage": "Triage decision: {by, reason, decision: affected|not_affected|false_positive|duplicate|needs_info, "
    "duplicate_of, products: [\"product/stream\"]}",
    "assess": "Assessment: {by, reason, impact: Critical|Important|Moderate|Low, cvss_vector, cwe, statement, "
    "mitigation, product_impacts: {\"product/stream\": {impact, justification}}}",
    "tracker_decision": "Engineering decision on a tracker: {by, reason, tracker: id or stream, "
    "decision: fix|fixed|wont_fix|defer|not_affected, target_date, fixed_in, justification}",
    "assign": "Assign the incident: {by, reason, owner}",
    "comment": "Add a note to the decision log: {by, text}",
    "close": "Close with a resolution once the checklist allows it: {by, reason, resolution}",
    "embargo": "Embargo: {by, reason, action: set|move|lift_now|leaked, public_date: ISO 8601 instant with a "
    "time zone (set, move)}",
    "approve_dismissal": "Second analyst's answer on a not_affected or false_positive dismissal of an automatic "
    "match: {by, reason, approved: true|false}",
    "major_incident": "Major Incident: {by, reason, state: requested|approved|rejected}; approval by the PSIRT lead",
    "approve_statement": "Review of a Major Incident's statement: {by, reason, role: legal|communications, "
    "approved: true|false, comment}",
    "hold": "Stop the deadline clocks, e.g. while waiting on the reporter: {by, reason}",
    "resume": "Restart the deadline clocks: {by, reason}",
}


@workflow.defn(name="Incident")
class IncidentWorkflow:
    """One incident: intake, triage, assessment, closure, driven by analysts' decisions."""

    @workflow.init
    def __init__(self, start: IncidentInput) -> None:
        self.incident = Incident(id=start.incident_id)
        self.pending_sources: list[IntakeSource] = []
        self.seen_digests: set[str] = set()
        self.recorded_tracker_decisions: dict[str, str] = {}
        self.policy: Policy | None = None
        self.outbox: list[NotificationInput] = []
        self.clock_version = 0
        self.private_tracker_ids: set[str] = set()
        self.rejections_counted = 0
        self.next_clock_event: deadlines.ClockEvent | None = None

    @workflow.run
    async def run(self, start: IncidentInput) -> IncidentStatus:
        """Walk the plan: triage, then assessment and closure until resolved."""
        await self._intake()
        await self._triage()

        while self.incident.resolution is None:
            await self._assessment()
            await self._closure()

        return await self._close()

    async def _intake(self) -> None:
        """Record the first report and match it against the inventory."""
        metrics.record_phase_change(None, Phase.triage)
        self._enter(Phase.triage)
        await workflow.wait_condition(lambda: bool(self.pending_sources))
        self.policy = await workflow.execute_activity(
            "load_policy",
            LoadPolicyInput(incident_id=self.incident.id),
            result_type=Policy,
            summary="load the policy in force",
            **STEP_OPTIONS["database"],
        )
        self.incident.policy_version = self.policy.version
        self.incident.opened_at = workflow.now()
        await self._settle()

        if self.incident.record_state == RecordState.rejected:
            self.incident.resolution = "withdrawn" if self.incident.report.withdrawn_at else "rejected"

    async def _triage(self) -> None:
        """Wait for the triage decision; dismissals end the incident."""
        if self.incident.resolution is not None:
            return
        await self._wait_until(self._triage_decided)
        if self.incident.triaged_at is not None and self.incident.opened_at is not None:
            metrics.record_triage_time((self.incident.triaged_at - self.incident.opened_at).total_seconds())

    async def _assessment(self) -> None:
        """Wait for impact, CVSS, one tracker per affected stream and their decisions."""
        self._enter(Phase.assessment)
        await self._wait_until(lambda: checklist.phase_complete(self.incident, Phase.assessment))

    async def _closure(self) -> None:
        """Wait for every tracker to be resolved and the embargo lifted, then render the advisory."""
        self._enter(Phase.closure)
        await self._wait_until(lambda: self._ready_to_publish() or not self._assessment_complete())
        if not self._assessment_complete():
            return

        await self._publish_communications()
        if self.incident.resolution is None:
            self.incident.resolution = _resolution_from_trackers(self.incident)

    async def _publish_communications(self) -> None:
        """Publish the CSAF VEX document, then render the advisory and the customer notification."""
        try:
            published = await workflow.execute_activity(
                "publish_csaf",
                PublishCsafInput(incident=self.status(), now=workflow.now()),
                result_type=PublishCsafResult,
                summary="publish the CSAF VEX document",
                **STEP_OPTIONS["render"],
            )
            self.incident.outputs = union(self.incident.outputs, [published.document_path])
            rendered = await workflow.execute_activity(
                "render_outputs",
                RenderInput(incident=self.status()),
                result_type=RenderResult,
                summary="render the advisory and the customer notification",
                **STEP_OPTIONS["render"],
            )
            self.incident.outputs = union(self.incident.outputs, rendered.paths)
        except ActivityError as error:
            # A refused publication must not fail the incident: record why and go on.
            cause = error.cause.message if error.cause else str(error)
            workflow.logger.warning("incident %s: publication failed: %s", self.incident.id, cause)
            self.incident.decisions.append(
                DecisionRecord(signal="publication", by="irp", reason=f"publication failed: {cause}"[:2000], at=workflow.now())
            )

    async def _close(self) -> IncidentStatus:
        """Close the incident, review a Major Incident, and return the final status."""
        if self._public_dismissal():
            await self._publish_communications()
        await workflow.wait_condition(workflow.all_handlers_finished)
        self.incident.closed_at = workflow.now()
        self._enter(Phase.closed)
        if self.incident.major_incident == MajorIncidentState.approved:
            review = await workflow.execute_activity(
                "render_review",
                RenderInput(incident=self.status()),
                result_type=RenderResult,
                summary="render the post-incident review",
                **STEP_OPTIONS["render"],
            )
            self.incident.outputs = union(self.incident.outputs, review.paths)
        workflow.logger.info("incident %s closed: %s", self.incident.id, self.incident.resolution)
        return self.status()

    # Steps that the incident's facts call for

    async def _wait_until(self, done: Callable[[], bool]) -> None:
        """Run pending steps and wait for decisions or the next clock event until `done` holds."""
        while True:
            await self._settle()
            if done():
                return
            version = self.clock_version
            event = self.next_clock_event
            timeout = max(event.at - workflow.now(), timedelta(0)) if event else None
            try:
                await workflow.wait_condition(
                    lambda: done() or self._work_pending() or self.clock_version != version,
                    timeout=timeout,
                    timeout_summary=event.summary if event else None,
                )
            except TimeoutError:
                pass

    def _work_pending(self) -> bool:
        return bool(
            self.pending_sources
            or self.outbox
            or self._due_clock_events()
            or self._unscored_vector()
            or self._untracked_streams()
            or self._trackers_to_publish()
            or self._unrecorded_trackers()
        )

    def _trackers_to_publish(self) -> bool:
        return bool(self.private_tracker_ids) and not self.incident.embargo.embargoed

    async def _settle(self) -> None:
        """Run the steps that the current facts call for until none is left."""
        while self._work_pending():
            if self.pending_sources:
                await self._record_source(self.pending_sources.pop(0))
            elif events := self._due_clock_events():
                sent = len(self.incident.escalations)
                self.outbox += fire_event(events[0], self.incident, self.policy, workflow.now())
                metrics.record_escalations(self.incident.escalations[sent:])
            elif self.outbox:
                await self._send(self.outbox.pop(0))
            elif vector := self._unscored_vector():
                await self._score(vector)
            elif affects := self._untracked_streams():
                await self._file_trackers(affects)
            elif self._trackers_to_publish():
                await self._publish_trackers()
            else:
                await self._record_tracker_decisions()
            self._publish()

    async def _record_source(self, source: IntakeSource) -> None:
        """Keep the raw report, take its facts and match it against the inventory."""
        await workflow.execute_activity(
            "keep_report",
            KeepReportInput(incident_id=self.incident.id, source=source),
            summary=f"keep report {source.digest[:12]}",
            **STEP_OPTIONS["database"],
        )
        self.incident.sources.append(
            SourceRef(
                file=source.file, format=source.report.format, digest=source.digest, received_at=source.received_at
            )
        )
        report = merge_reports(self.incident.report, source.report, self.incident.id)
        self.incident.report = report
        self.incident.record_state = report.state
        self.incident.title = report.title
        self.incident.description = report.description
        self.incident.aliases = report.aliases
        if self.incident.cwe is None and report.cwes:
            self.incident.cwe = report.cwes[0]

        result = await workflow.execute_activity(
            "match_inventory",
            MatchInput(report=report),
            result_type=MatchResult,
            summary="match affected components against the inventory",
            **STEP_OPTIONS["database"],
        )
        self._take_automatic_affects(result.affects)
        self.incident.matched = True

    def _take_automatic_affects(self, affects: list[Affect]) -> None:
        """Replace automatic verdicts; keep what analysts decided."""
        decided = {(a.product, a.stream): a for a in self.incident.affects if a.decided_by != "automatic"}
        merged = []
        for affect in affects:
            merged.append(decided.pop((affect.product, affect.stream), affect))
        self.incident.affects = merged + list(decided.values())

    async def _score(self, vector: str) -> None:
        score = await workflow.execute_activity(
            "score_cvss", ScoreInput(vector=vector), result_type=CvssScore, summary="score CVSS", **STEP_OPTIONS["database"]
        )
        self.incident.cvss = score

    async def _file_trackers(self, affects: list[Affect]) -> None:
        result = await workflow.execute_activity(
            "file_trackers",
            FileTrackersInput(incident_id=self.incident.id, affects=affects, private=self.incident.embargo.embargoed),
            result_type=FileTrackersResult,
            summary=f"file {len(affects)} tracker(s)",
            **STEP_OPTIONS["database"],
        )
        known = {t.id for t in self.incident.trackers}
        for tracker in result.trackers:
            if tracker.id not in known:
                self.incident.trackers.append(tracker)
                self.recorded_tracker_decisions[tracker.id] = _decision_key(tracker)
            if not tracker.public:
                self.private_tracker_ids.add(tracker.id)

    async def _publish_trackers(self) -> None:
        """Make the trackers filed under embargo public in the tracker backend."""
        published = [t for t in self.incident.trackers if t.id in self.private_tracker_ids]
        await workflow.execute_activity(
            "publish_trackers",
            PublishTrackersInput(incident_id=self.incident.id, trackers=published),
            summary=f"make {len(published)} tracker(s) public",
            **STEP_OPTIONS["database"],
        )
        self.private_tracker_ids.clear()

    async def _record_tracker_decisions(self) -> None:
        for tracker in self._unrecorded_trackers():
            await workflow.execute_activity(
                "record_tracker_decision",
                RecordTrackerDecisionInput(tracker=tracker),
                summary=f"record {tracker.decision} on {tracker.id}",
                **STEP_OPTIONS["database"],
            )
            self.recorded_tracker_decisions[tracker.id] = _decision_key(tracker)
            metrics.record_tracker_resolved(self.incident, tracker)

    def _due_clock_events(self) -> list[deadlines.ClockEvent]:
        if self.policy is None:
            return []
        now = workflow.now()
        return [event for event in deadlines.due_events(self.incident, self.policy) if event.at <= now]

    async def _send(self, notification: NotificationInput) -> None:
        await workflow.execute_activity(
            "send_notification",
            notification,
            result_type=NotificationResult,
            summary=f"email {notification.kind}: {notification.subject[:80]}",
            **STEP_OPTIONS["database"],
        )

    def _unscored_vector(self) -> str | None:
        if self.incident.cvss_vector and not checklist.cvss_scored(self.incident):
            return self.incident.cvss_vector
        return None

    def _untracked_streams(self) -> list[Affect]:
        if self.incident.triage != TriageOutcome.affected or self.incident.phase == Phase.triage:
            return []
        tracked = {(t.product, t.stream) for t in self.incident.trackers}
        return [
            a for a in self.incident.affects
            if a.status == AffectStatus.affected and (a.product, a.stream) not in tracked
        ]

    def _unrecorded_trackers(self) -> list[Tracker]:
        return [t for t in self.incident.trackers if self.recorded_tracker_decisions.get(t.id) != _decision_key(t)]

    def _triage_decided(self) -> bool:
        return self.incident.triage not in (None, TriageOutcome.needs_info) or self.incident.resolution is not None

    def _assessment_complete(self) -> bool:
        return checklist.phase_complete(self.incident, Phase.assessment)

    def _trackers_resolved(self) -> bool:
        return bool(self.incident.trackers) and all(t.resolved for t in self.incident.trackers)

    def _public_dismissal(self) -> bool:
        """Tell whether a dismissed incident of a public record gets a `known_not_affected` VEX."""
        incident = self.incident
        dismissed = incident.triage in (TriageOutcome.not_affected, TriageOutcome.false_positive)
        public_record = incident.record_state == RecordState.published and not incident.embargo.embargoed
        return dismissed and public_record and bool(incident.affects)

    def _ready_to_publish(self) -> bool:
        return self._trackers_resolved() and not self.incident.embargo.embargoed

    # What the UI and the CLI see

    def _enter(self, phase: Phase) -> None:
        if self.incident.phase != phase:
            workflow.logger.info("incident %s enters %s", self.incident.id, phase.value)
            metrics.record_phase_change(self.incident.phase, phase)
        self.incident.phase = phase
        self._publish()

    def _publish(self) -> None:
        """Replan the deadlines, then refresh the search attributes and the current details."""
        incident = self.incident
        metrics.record_rejections(incident.rejections[self.rejections_counted :])
        self.rejections_counted = len(incident.rejections)
        self._request_major_incident_if_exploited()
        self._replan()
        due = deadlines.next_due(incident) if incident.phase != Phase.closed else None
        updates = [
            attributes.PHASE.value_set(incident.phase.value),
            attributes.EMBARGOED.value_set(incident.embargo.embargoed),
            attributes.AT_RISK.value_set(incident.phase != Phase.closed and deadlines.at_risk(incident)),
            attributes.ESCALATION_LEVEL.value_set(deadlines.escalation_level(incident)),
            attributes.DUE_AT.value_set(due) if due else attributes.DUE_AT.value_unset(),
            attributes.PRODUCTS.value_set(self._visible_products()),
            attributes.MAJOR_INCIDENT.value_set(incident.major_incident == MajorIncidentState.approved),
        ]
        if incident.impact is not None:
            updates.append(attributes.IMPACT.value_set(incident.impact.value))
        workflow.upsert_search_attributes(updates)
        workflow.set_current_details(current_details(self.status(), workflow.now()))

    def _request_major_incident_if_exploited(self) -> None:
        """Raise a Major Incident request for a Critical flaw that is known to be exploited."""
        incident = self.incident
        exploited = incident.report is not None and incident.report.known_exploited
        if incident.impact == Impact.critical and exploited and incident.major_incident == MajorIncidentState.none:
            incident.major_incident = MajorIncidentState.requested
            incident.decisions.append(
                DecisionRecord(
                    signal="major_incident",
                    by="irp",
                    reason="impact is Critical and the record shows known exploitation",
                    at=workflow.now(),
                    details={"state": "requested"},
                )
            )

    def _visible_products(self) -> list[str]:
        """Return the affected products, or none while they are under embargo."""
        if self.incident.embargo.embargoed:
            return []
        return sorted({a.product for a in self.incident.affects if a.status != AffectStatus.not_affected})

    def _replan(self) -> None:
        """Recompute deadlines; wake the waiting loop when the next clock event moved."""
        if self.policy is None or self.incident.phase == Phase.closed:
            self.next_clock_event = None
            return
        deadlines.plan_deadlines(self.incident, self.policy, workflow.now())
        event = deadlines.next_event(self.incident, self.policy)
        if event != self.next_clock_event:
            self.next_clock_event = event
            self.clock_version += 1

    @workflow.query(description="Phase, impact, affects, trackers, checklist, pending and rejected decisions")
    def status(self) -> IncidentStatus:
        """Return the incident with its derived checklist."""
        return IncidentStatus(
            **self.incident.model_dump(),
            checklist=checklist.checklist(self.incident),
            pending=self._pending_decisions(),
        )

    @workflow.query(description="The decision log: every accepted decision with who, when and why")
    def decisions(self) -> list[DecisionRecord]:
        """Return the decision log."""
        return self.incident.decisions

    def _pending_decisions(self) -> list[str]:
        incident = self.incident
        if incident.phase == Phase.closed:
            return []
        if incident.phase == Phase.triage:
            if incident.pending_dismissal is not None:
                return ["dismissal approved by a second analyst"]
            return ["triage decision"] if incident.matched and not self._triage_decided() else []
        waiting = [item for item in checklist.open_items(incident, incident.phase)]
        return [item for item in waiting if item not in ("advisory rendered", "closed with a resolution")]

    # Decisions

    @workflow.signal(name="add_source", description="A report for this incident, sent by `irp intake`")
    def add_source(self, *payloads: Any) -> None:
        """Queue a report for recording, unless the same file arrived before."""
        payload = payloads[0] if len(payloads) == 1 else list(payloads)
        try:
            source = IntakeSource.model_validate(payload)
        except ValidationError as error:
            reject(self.incident, "add_source", payload, f"invalid report: {describe_errors(error)}", workflow.now())
            self._publish()
            return
        if source.embargo_until is not None:
            self._embargo_from_intake(source)
        if source.digest not in self.seen_digests:
            self.seen_digests.add(source.digest)
            self.pending_sources.append(source)
        self._publish()

    def _embargo_from_intake(self, source: IntakeSource) -> None:
        """Put the incident under embargo before anything about the report is published."""
        embargo = self.incident.embargo
        if embargo.embargoed or embargo.lifted_at is not None:
            return
        if source.embargo_until.tzinfo is None or source.embargo_until <= workflow.now():
            reject(self.incident, "add_source", {"embargo_until": str(source.embargo_until)},
                   "`embargo_until` must be a future instant with a time zone", workflow.now())
            return
        embargo.embargoed = True
        embargo.public_date = source.embargo_until
        self.incident.decisions.append(
            DecisionRecord(signal="embargo", by="intake", reason=f"reported under embargo by {source.file}",
                           at=workflow.now(), details={"action": "set", "public_date": source.embargo_until.isoformat()})
        )

    @workflow.signal(name="triage", description=DECISION_DESCRIPTIONS["triage"])
    def triage(self, *payloads: Any) -> None:
        """Take a triage decision."""
        self._take("triage", payloads)

    @workflow.signal(name="assess", description=DECISION_DESCRIPTIONS["assess"])
    def assess(self, *payloads: Any) -> None:
        """Take an assessment."""
        self._take("assess", payloads)

    @workflow.signal(name="tracker_decision", description=DECISION_DESCRIPTIONS["tracker_decision"])
    def tracker_decision(self, *payloads: Any) -> None:
        """Take an engineering decision on a tracker."""
        self._take("tracker_decision", payloads)

    @workflow.signal(name="assign", description=DECISION_DESCRIPTIONS["assign"])
    def assign(self, *payloads: Any) -> None:
        """Assign the incident to an owner."""
        self._take("assign", payloads)

    @workflow.signal(name="comment", description=DECISION_DESCRIPTIONS["comment"])
    def comment(self, *payloads: Any) -> None:
        """Add a comment to the decision log."""
        self._take("comment", payloads)

    @workflow.signal(name="close", description=DECISION_DESCRIPTIONS["close"])
    def close(self, *payloads: Any) -> None:
        """Close the incident with a resolution."""
        self._take("close", payloads)

    @workflow.signal(name="embargo", description=DECISION_DESCRIPTIONS["embargo"])
    def embargo(self, *payloads: Any) -> None:
        """Set, move or lift the embargo."""
        self._take("embargo", payloads)

    @workflow.signal(name="approve_dismissal", description=DECISION_DESCRIPTIONS["approve_dismissal"])
    def approve_dismissal(self, *payloads: Any) -> None:
        """Take a second analyst's approval or refusal of a dismissal."""
        self._take("approve_dismissal", payloads)

    @workflow.signal(name="major_incident", description=DECISION_DESCRIPTIONS["major_incident"])
    def major_incident(self, *payloads: Any) -> None:
        """Request, approve or reject Major Incident handling."""
        self._take("major_incident", payloads)

    @workflow.signal(name="approve_statement", description=DECISION_DESCRIPTIONS["approve_statement"])
    def approve_statement(self, *payloads: Any) -> None:
        """Take a legal or communications review of the statement."""
        self._take("approve_statement", payloads)

    @workflow.signal(name="hold", description=DECISION_DESCRIPTIONS["hold"])
    def hold(self, *payloads: Any) -> None:
        """Stop the deadline clocks."""
        self._take("hold", payloads)

    @workflow.signal(name="resume", description=DECISION_DESCRIPTIONS["resume"])
    def resume(self, *payloads: Any) -> None:
        """Restart the deadline clocks."""
        self._take("resume", payloads)

    @workflow.signal(
        name="rejected_decision",
        description="Records a decision that the `decide` update rejected, so the history keeps it: {signal, input, reason}",
    )
    def rejected_decision(self, *payloads: Any) -> None:
        """Record a decision that the `decide` update rejected."""
        entry = payloads[0] if len(payloads) == 1 and isinstance(payloads[0], dict) else {}
        reason = str(entry.get("reason") or "rejected by the decide update")[:2000]
        reject(self.incident, str(entry.get("signal") or "unknown")[:100], entry.get("input"), reason, workflow.now())
        self._publish()

    @workflow.update(name="decide", description="Take a decision and return the result at once: {signal, input}")
    def decide(self, request: DecisionRequest) -> DecisionRecord:
        """Apply a decision that the validator accepted."""
        outcome = self._decide(request.signal, request.input)
        if not isinstance(outcome, DecisionRecord):
            raise ApplicationError(outcome.reason, type="DecisionRejected", non_retryable=True)
        return outcome

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        decision = parse_decision(request.signal, request.input)
        check_decision(self.incident, request.signal, decision, workflow.now(), self.policy)

    def _take(self, signal: str, payloads: tuple[Any, ...]) -> None:
        """Take a decision signal, which must carry exactly one JSON object."""
        if len(payloads) != 1:
            reason = f"`{signal}` expects exactly one JSON object, got {len(payloads)} payloads"
            reject(self.incident, signal, list(payloads), reason, workflow.now())
            self._publish()
            return
        self._decide(signal, payloads[0])

    @workflow.signal(dynamic=True, description="Any other signal name is recorded as a rejected decision")
    def unknown_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """Record a signal whose name the plan does not know, so a typo is never silent."""
        known = ", ".join(DECISION_DESCRIPTIONS)
        reason = f"unknown signal `{name[:100]}`; the decisions are {known}"
        reject(self.incident, name[:100], f"{len(payloads)} payload(s)", reason, workflow.now())
        self._publish()

    def _decide(self, signal: str, payload: Any) -> DecisionRecord | Rejection:
        """Apply or reject a decision, then follow up on what it changed."""
        outcome = take_decision(self.incident, signal, payload, workflow.now(), self.policy)
        if isinstance(outcome, DecisionRecord) and signal == "embargo" and self.policy is not None:
            action = outcome.details.get("action")
            moved = action in (EmbargoAction.set.value, EmbargoAction.move.value)
            if moved and deadlines.exceeds_embargo_maximum(self.incident, self.policy, workflow.now()):
                self.outbox.append(embargo_too_long(self.incident, self.policy, workflow.now()))
        self._publish()
        return outcome


def _decision_key(tracker: Tracker) -> str:
    return f"{tracker.decision}|{tracker.target_date}|{tracker.fixed_in}|{tracker.justification}"


def _resolution_from_trackers(incident: Incident) -> str:
    decisions = sorted({t.decision.value for t in incident.trackers if t.decision})
    return "fixed" if decisions == ["fixed"] else ", ".join(decisions)
