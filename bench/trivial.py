"""The trivial workflow that the benchmark's plain start loop starts, as a baseline for intake."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchTrivial")
class TrivialWorkflow:
    """A workflow that returns its argument at once."""

    @workflow.run
    async def run(self, name: str) -> str:
        """Return the argument."""
        return name
