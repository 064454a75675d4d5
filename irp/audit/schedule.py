"""The archive schedule that `irp up` creates, and the archive workflow's input and result."""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel, Field
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from irp.settings import Settings

log = logging.getLogger(__name__)

ARCHIVE_SCHEDULE_ID = "irp-archive"
ARCHIVE_WORKFLOW_ID = "irp-archive"
# NOTE: every run leaves a small `Archive` workflow history, kept as long as the namespace retention.
ARCHIVE_INTERVAL = timedelta(minutes=1)


class ArchiveInput(BaseModel):
    """Input of the archive workflow and its step."""

    limit: int = Field(default=100, ge=1, le=10_000)
    """Most incident runs one step archives before the workflow starts another."""


class ArchiveResult(BaseModel):
    """Incidents one archive run exported."""

    archived: list[str] = Field(default_factory=list)
    remaining: bool = False
    """True when more closed runs wait than the step's limit allowed."""


async def ensure_archive_schedule(client: Client, settings: Settings) -> bool:
    """Create the schedule that archives closed incidents every minute; return False when it already exists."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            "Archive",
            ArchiveInput(),
            id=ARCHIVE_WORKFLOW_ID,
            task_queue=settings.task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=ARCHIVE_INTERVAL)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    try:
        await client.create_schedule(ARCHIVE_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        return False
    log.info("created the schedule %s: archive closed incidents every %s", ARCHIVE_SCHEDULE_ID, ARCHIVE_INTERVAL)
    return True
