"""A workflow that records each of irp's metrics, kept apart so the sandbox imports only this."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.incident import Escalation, Rejection
    from workflows import metrics


@workflow.defn(name="MetricsProbe")
class MetricsProbeWorkflow:
    """A workflow that records each of irp's metrics once and logs one line."""

    @workflow.run
    async def run(self, advance: bool) -> str:
        """Record a phase entry, then the other metrics when `advance` is set."""
        workflow.logger.info("probe %s starts", workflow.info().workflow_id)
        metrics.record_phase_change(None, "triage")
        if advance:
            metrics.record_phase_change("triage", "assessment")
            metrics.record_escalation(2)
            metrics.record_escalations([Escalation(deadline="triage", level=0, name="reminder", at=workflow.now(), recipients=[])])
            metrics.record_rejections([Rejection(signal="close", reason="checklist open", at=workflow.now())])
            metrics.record_rejection("assess")
            metrics.record_rejection("no-such-signal")
            metrics.record_triage_time(90.0)
            metrics.record_fix_time("Important", 7 * 86_400.0)
        await workflow.sleep(timedelta(milliseconds=10))
        return workflow.info().workflow_id
