"""The feed's activity: take the reports in a drop folder or Maildir in, as `irp intake` does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from irp.feed import PROCESSED_FOLDER, location_problem, location_root, move_aside, move_to_failed, pending_files
from irp.intake import deliver, incident_id_for, read_source, reject_input
from irp.settings import Settings
from irp.sources.cve5 import InvalidReport
from models.feed import FileFailure, LocationResult, TakeInInput

MAX_FILES_PER_RUN = 1000
"""Files one run takes from one location; the rest wait for the next run, so a run stays short."""

TRANSIENT_STATUSES = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.INTERNAL,
    RPCStatusCode.UNKNOWN,
}
"""Temporal errors that a later run may not meet, so the file stays where it is."""

CLOSED_INCIDENT = "its incident is already closed; reopen it by hand or report it under a new id"


class FeedLocationMissing(ApplicationError):
    """A feed location that does not exist or is not a Maildir: no retry can fix it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="FeedLocationMissing", non_retryable=True)


class FeedActivities:
    """The feed's step, bound to the worker's Temporal client and settings."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    @activity.defn
    async def take_in_feed_location(self, step: TakeInInput) -> LocationResult:
        """Take every settled file of one location in, moving each to `processed/` or `failed/`."""
        problem = location_problem(step.location)
        if problem is not None:
            raise FeedLocationMissing(problem)

        files = await asyncio.to_thread(pending_files, step.location, step.settle_seconds)
        result = LocationResult(location=step.location, remaining=max(0, len(files) - MAX_FILES_PER_RUN))
        root = location_root(step.location)

        for index, path in enumerate(files[:MAX_FILES_PER_RUN]):
            activity.heartbeat(index)
            if not await self._take_in(step.feed, path, root, result):
                result.remaining += len(files[:MAX_FILES_PER_RUN]) - index - 1
                break

        activity.logger.info(
            "feed %s, %s: %d started, %d merged, %d failed, %d deferred, %d remaining",
            step.feed, root, result.started, result.merged, result.failed, result.deferred, result.remaining,
        )
        return result

    async def _take_in(self, feed: str, path: Path, root: Path, result: LocationResult) -> bool:
        """Deliver one file and move it aside; return False when Temporal is out of reach."""
        # Delivery comes first and the move second. A crash between the two leaves the file in
        # place, and the next run delivers it again: the incident records each report digest once.
        try:
            source = await asyncio.to_thread(read_source, path, datetime.now(UTC))
        except InvalidReport as error:
            self._fail(feed, path, root, result, error.problem)
            return True
        incident = incident_id_for(source.report)

        try:
            action = await deliver(self.client, self.settings, source)
        except WorkflowAlreadyStartedError:
            self._fail(feed, path, root, result, CLOSED_INCIDENT, incident)
            return True
        except RPCError as error:
            if error.status in TRANSIENT_STATUSES:
                activity.logger.warning("feed %s: %s stays for the next run: %s", feed, path, error.message)
                result.deferred += 1
                result.failures.append(FileFailure(file=str(path), error=f"Temporal is unavailable: {error.message}"))
                return False
            self._fail(feed, path, root, result, f"Temporal rejected the report: {error.message}", incident)
            return True

        if action == "started":
            result.started += 1
        else:
            result.merged += 1
        try:
            move_aside(path, root / PROCESSED_FOLDER)
        except OSError as error:
            problem = f"delivered to {incident}, but not moved to {PROCESSED_FOLDER}/: {error.strerror}"
            activity.logger.error("feed %s: %s", feed, problem)
            result.failures.append(FileFailure(file=str(path), error=problem))
        return True

    def _fail(
        self, feed: str, path: Path, root: Path, result: LocationResult, problem: str, incident: str | None = None
    ) -> None:
        """Move a file that cannot be taken in to `failed/`, note why, and log it as a rejected input."""
        reject_input(self.settings, path, problem, incident)
        try:
            moved_to: str | None = str(move_to_failed(path, root, problem))
        except OSError as error:
            moved_to = None
            problem = f"{problem}; it could not be moved to failed/ either: {error.strerror}"
        activity.logger.warning("feed %s: %s failed: %s", feed, path, problem)
        result.failed += 1
        result.failures.append(FileFailure(file=str(path), error=problem, moved_to=moved_to))

    def all(self) -> list:
        """Return every feed activity for the worker."""
        return [self.take_in_feed_location]
