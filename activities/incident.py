"""Activities of the incident workflow: the steps that touch the database and files."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from irp import inventory, matching, notify, trackers
from irp.decisions import DecisionRejected, score_vector
from irp.policy import InvalidPolicy, load_policy
from irp.rendering import render, safe_file_name
from irp.sealing import seal
from irp.settings import Settings
from models.incident import CvssScore
from models.policy import Policy
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


class InvalidStepInput(ValueError):
    """Input to a step that no retry can fix."""


class IncidentActivities:
    """The incident's steps, bound to one database and output folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database_url = settings.database_url
        self.outputs_dir = settings.outputs_dir
        self.outbox_dir = settings.outbox_dir
        self.policy_file = settings.policy_file

    @activity.defn
    def load_policy(self, step: LoadPolicyInput) -> Policy:
        """Read the policy in force, so the incident's history records it."""
        try:
            policy = load_policy(self.policy_file)
        except InvalidPolicy as error:
            raise InvalidStepInput(str(error)) from None
        activity.logger.info("incident %s runs under policy %s", step.incident_id, policy.version)
        return policy

    @activity.defn
    def send_notification(self, step: NotificationInput) -> NotificationResult:
        """Email a reminder or escalation once per key."""
        outbox = Path(step.notifications.outbox) if step.notifications.outbox else self.outbox_dir
        result = notify.send_notification(step, outbox)
        activity.logger.info("incident %s: %s %s to %d recipients", step.incident_id, step.kind, step.key, len(step.recipients))
        return result

    @activity.defn
    def keep_report(self, step: KeepReportInput) -> None:
        """Store a received report's raw text once per digest."""
        source = step.source
        trackers.keep_report(
            self.database_url,
            digest=source.digest,
            incident_id=step.incident_id,
            file=source.file,
            format=source.report.format,
            received_at=source.received_at,
            raw=seal(self.settings, source.raw),
        )

    @activity.defn
    def match_inventory(self, step: MatchInput) -> MatchResult:
        """Match a report against every inventory stream."""
        streams = inventory.list_streams(self.database_url)
        activity.logger.info("matching %s against %d streams", step.report.id, len(streams))
        return MatchResult(affects=matching.match_affects(step.report, streams))

    @activity.defn
    def score_cvss(self, step: ScoreInput) -> CvssScore:
        """Score a CVSS vector with the `cvss` library."""
        try:
            version, base_score, severity = score_vector(step.vector)
        except DecisionRejected as rejected:
            raise InvalidStepInput(rejected.reason) from None
        return CvssScore(version=version, vector=step.vector, base_score=base_score, severity=severity)

    @activity.defn
    def file_trackers(self, step: FileTrackersInput) -> FileTrackersResult:
        """File one tracker per affected stream; a retry returns the same trackers.

        Trackers of an embargoed incident are private, and their component is stored sealed.
        """
        filed = []
        for affect in step.affects:
            component = seal(self.settings, affect.component) if step.private and affect.component else affect.component
            tracker = trackers.file_tracker(
                self.database_url,
                incident_id=step.incident_id,
                product=affect.product,
                stream=affect.stream,
                component=component,
                owner=affect.owner,
                public=not step.private,
            )
            filed.append(
                tracker.model_copy(
                    update={"component": affect.component, "compliance_priority": affect.compliance_priority}
                )
            )
        return FileTrackersResult(trackers=filed)

    @activity.defn
    def publish_trackers(self, step: PublishTrackersInput) -> None:
        """Make an incident's trackers public once its embargo is lifted."""
        components = {tracker.id: tracker.component for tracker in step.trackers}
        changed = trackers.publish_trackers(self.database_url, step.incident_id, components)
        activity.logger.info("incident %s: %d tracker(s) made public", step.incident_id, changed)

    @activity.defn
    def record_tracker_decision(self, step: RecordTrackerDecisionInput) -> None:
        """Write a tracker's engineering decision to the tracker backend."""
        tracker = step.tracker
        trackers.record_tracker_decision(
            self.database_url,
            tracker_id=tracker.id,
            decision=tracker.decision,
            target_date=tracker.target_date,
            fixed_in=tracker.fixed_in,
            justification=tracker.justification,
        )

    @activity.defn
    def render_review(self, step: RenderInput) -> RenderResult:
        """Render a Major Incident's post-incident review: timeline, decisions, deadlines."""
        incident = step.incident
        folder = self.outputs_dir / safe_file_name(incident.id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "post-incident-review.md"
        _write_atomically(path, render("post_incident_review.md.j2", {"incident": incident}))
        return RenderResult(paths=[str(path)])

    def all(self) -> list:
        """Return every activity for the worker."""
        return [
            self.load_policy,
            self.send_notification,
            self.keep_report,
            self.match_inventory,
            self.score_cvss,
            self.file_trackers,
            self.publish_trackers,
            self.record_tracker_decision,
            self.render_review,
        ]


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
