"""The feed workflow: one scheduled pass over a feed's drop folder and Maildir."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from models.feed import FeedInput, FeedLocation, FeedRunResult, LocationResult, TakeInInput

# A run that cannot finish soon is retried by the schedule's next run, so retries stay few.
TAKE_IN_OPTIONS = {
    "start_to_close_timeout": timedelta(minutes=10),
    "heartbeat_timeout": timedelta(minutes=1),
    "retry_policy": RetryPolicy(
        maximum_attempts=3,
        maximum_interval=timedelta(seconds=10),
        non_retryable_error_types=["FeedLocationMissing"],
    ),
}


@workflow.defn(name="Feed")
class FeedWorkflow:
    """One run of a feed: take every settled file of each location in, and report what failed."""

    @workflow.run
    async def run(self, feed: FeedInput) -> FeedRunResult:
        """Take each location in turn; a location that fails does not stop the others."""
        result = FeedRunResult(feed=feed.name)
        for location in feed.locations:
            location_result = await self._take_in(feed, location)
            result.locations.append(location_result)
            self._log_failures(feed.name, location_result)

        workflow.logger.info(
            "feed %s: %d started, %d merged, %d failed", feed.name, result.started, result.merged, result.failed
        )
        return result

    async def _take_in(self, feed: FeedInput, location: FeedLocation) -> LocationResult:
        """Run the take-in step for one location, turning its failure into a result."""
        try:
            return await workflow.execute_activity(
                "take_in_feed_location",
                TakeInInput(feed=feed.name, location=location, settle_seconds=feed.settle_seconds),
                result_type=LocationResult,
                summary=f"take in {location.kind.value} {location.path}",
                **TAKE_IN_OPTIONS,
            )
        except ActivityError as error:
            problem = getattr(error.cause, "message", None) or str(error)
            return LocationResult(location=location, error=problem)

    def _log_failures(self, feed: str, location: LocationResult) -> None:
        """Log each file and location the run could not take in."""
        if location.error is not None:
            workflow.logger.warning("feed %s: %s %s failed: %s", feed, location.location.kind.value, location.location.path, location.error)
        for failure in location.failures:
            workflow.logger.warning("feed %s: %s: %s", feed, failure.file, failure.error)
