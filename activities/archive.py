"""The archive step: export closed incidents' histories into the hashed archive."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from irp.audit.archive import add_histories, archive_dir, archived_run_ids
from irp.audit.schedule import ArchiveInput, ArchiveResult
from irp.settings import Settings

CLOSED_INCIDENTS = "WorkflowType = 'Incident' AND ExecutionStatus != 'Running'"


class ArchiveActivities:
    """The archive step, bound to a Temporal client and the archive folder."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    @activity.defn
    async def archive_closed_incidents(self, step: ArchiveInput) -> ArchiveResult:
        """Export every closed incident run that the archive does not hold yet, up to `step.limit` runs."""
        directory = archive_dir(self.settings)
        directory.mkdir(parents=True, exist_ok=True)
        known = archived_run_ids(directory)

        archived = []
        remaining = False
        # NOTE: every run lists all closed incidents and skips the archived ones, which grows with the
        # archive; a CloseTime bound would keep each run small.
        async for execution in self.client.list_workflows(CLOSED_INCIDENTS):
            if execution.run_id in known:
                continue
            if len(archived) >= step.limit:
                remaining = True
                break
            history = await self.client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
            add_histories(directory, [history], namespace=self.client.namespace)
            archived.append(execution.id)
            activity.heartbeat(execution.id)
            activity.logger.info("archived the history of incident %s run %s", execution.id, execution.run_id)
        return ArchiveResult(archived=archived, remaining=remaining)

    def all(self) -> list:
        """Return the bound activity methods for a worker."""
        return [self.archive_closed_incidents]
