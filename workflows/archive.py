"""The archive workflow: one run of the archive schedule."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from irp.audit.schedule import ArchiveInput, ArchiveResult


@workflow.defn(name="Archive")
class ArchiveWorkflow:
    """Export closed incidents' histories into the hashed archive."""

    @workflow.run
    async def run(self, step: ArchiveInput) -> ArchiveResult:
        """Archive closed incidents in batches until none is left."""
        archived: list[str] = []
        while True:
            result = await workflow.execute_activity(
                "archive_closed_incidents",
                step,
                result_type=ArchiveResult,
                summary="archive closed incidents",
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=2),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=5),
            )
            archived += result.archived
            if not result.remaining:
                break
        if archived:
            workflow.logger.info("archived %s closed incident(s)", len(archived))
        return ArchiveResult(archived=archived)
