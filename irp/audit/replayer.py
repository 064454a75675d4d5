"""Replaying incident histories against the workflow code, with and without the clock probe."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    Replayer,
    UnsandboxedWorkflowRunner,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from irp import deadlines
from models.incident import Incident, Phase
from models.policy import Policy
from workflows.incident import IncidentWorkflow

AUDITED_WORKFLOWS: list[type] = [IncidentWorkflow]
"""Workflow classes an audit replays histories against."""


class ReplayVerdict(BaseModel):
    """Whether a history replays against the current workflow code, and why not."""

    ok: bool
    error: str | None = None
    """The replay failure, e.g. a `[TMPRL1100]` nondeterminism error naming the mismatched command."""
    error_type: str | None = None


async def replay(
    history: WorkflowHistory, data_converter: DataConverter, workflows: Sequence[type] | None = None
) -> ReplayVerdict:
    """Replay one history in the sandbox, as a worker would, and return the verdict."""
    replayer = Replayer(workflows=list(workflows or AUDITED_WORKFLOWS), data_converter=data_converter)
    try:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    except Exception as error:  # a history the replayer cannot even start, e.g. an unknown workflow type
        return ReplayVerdict(ok=False, error=str(error) or repr(error), error_type=type(error).__name__)
    if result.replay_failure is not None:
        failure = result.replay_failure
        return ReplayVerdict(ok=False, error=str(failure) or repr(failure), error_type=type(failure).__name__)
    return ReplayVerdict(ok=True)


@dataclass
class ProbeResult:
    """Observations of the clock probe while it replays one run."""

    verdict: ReplayVerdict
    clock_events: dict[int, deadlines.ClockEvent | None] = field(default_factory=dict)
    """The next clock event re-derived at the end of each workflow task, by the task's `WorkflowTaskStarted` event id."""
    incident: Incident | None = None
    """The replayed workflow's incident after the last event."""


_PROBES: dict[str, ProbeResult] = {}


async def replay_with_probe(
    history: WorkflowHistory, data_converter: DataConverter, workflows: Sequence[type] | None = None
) -> ProbeResult:
    """Replay one history outside the sandbox, recording the re-derived next clock event after every workflow task."""
    run_id = history.run_id
    probe = _PROBES[run_id] = ProbeResult(verdict=ReplayVerdict(ok=True))
    replayer = Replayer(
        workflows=list(workflows or AUDITED_WORKFLOWS),
        data_converter=data_converter,
        interceptors=[_ClockProbe()],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    try:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failure = result.replay_failure
            probe.verdict = ReplayVerdict(ok=False, error=str(failure), error_type=type(failure).__name__)
    except Exception as error:
        probe.verdict = ReplayVerdict(ok=False, error=str(error) or repr(error), error_type=type(error).__name__)
    finally:
        _PROBES.pop(run_id, None)
    return probe


class _ClockProbe(Interceptor):
    """Interceptor that watches the replayed incident after every workflow task."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _ClockProbeInbound


class _ClockProbeInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        probe = _PROBES.get(workflow.info().run_id)
        if probe is None:
            return await super().execute_workflow(input)

        # NOTE: the probe reads the workflow's `incident` and `policy` attributes; if they are renamed it
        # observes nothing, and the report says so with a `clock not re-derived` finding.
        instance = workflow.instance()

        def observe() -> bool:
            # Temporal evaluates wait conditions after every step of the event loop, and handlers run
            # before the workflow code they wake, so the last observation in a workflow task is the
            # state that the task's timers were started from. In replay the history length is the
            # task's `WorkflowTaskStarted` event id. Workflow time is no key: `workflow.now()` rounds
            # a nanosecond event time that the history walk truncates, so they differ by a microsecond.
            incident, policy = getattr(instance, "incident", None), getattr(instance, "policy", None)
            if isinstance(incident, Incident):
                probe.incident = incident
            if isinstance(incident, Incident) and isinstance(policy, Policy):
                task = workflow.info().get_current_history_length()
                probe.clock_events[task] = _next_event(incident, policy)
            return False

        watcher = asyncio.create_task(workflow.wait_condition(observe))
        try:
            return await super().execute_workflow(input)
        finally:
            watcher.cancel()


def _next_event(incident: Incident, policy: Policy) -> deadlines.ClockEvent | None:
    """Re-derive the next clock event from the incident's facts and the recorded policy."""
    if incident.phase == Phase.closed:
        return None
    # `plan_deadlines` replaces the deadline list and reads nothing else it could change.
    replanned = incident.model_copy(update={"deadlines": [deadline.model_copy() for deadline in incident.deadlines]})
    deadlines.plan_deadlines(replanned, policy, workflow.now())
    return deadlines.next_event(replanned, policy)
