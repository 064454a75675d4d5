"""`irp feed`: drop folders and Maildirs that a Temporal Schedule takes reports in from."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    WorkflowExecutionStatus,
)
from temporalio.service import RPCError, RPCStatusCode

from irp.cli.common import console, fail, print_json, run_with_client
from irp.feed import InvalidFeed, feed_name, format_interval, parse_interval, schedule_id, validate_feed_name
from irp.settings import Settings
from models.feed import FeedInput, FeedLocation, FeedRunResult, LocationKind
from workflows.feed import FeedWorkflow

RECENT_RUNS_SHOWN = 5

app = typer.Typer(help="Feeds: folders and Maildirs that a Temporal Schedule takes reports in from.", no_args_is_help=True)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="Feed name: lower-case letters, digits, `-` and `_`.")],
    every: Annotated[str, typer.Option("--every", help="Interval between runs: 30s, 5m, 1h30m or 2d; a bare number counts minutes.")],
    folder: Annotated[Path | None, typer.Option(help="Drop folder whose files are taken in.")] = None,
    maildir: Annotated[Path | None, typer.Option(help="Maildir whose new/ and cur/ messages are taken in.")] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create the feed paused.")] = False,
) -> None:
    """Create a feed: a Temporal Schedule that takes new files in every interval."""
    try:
        feed = FeedInput(
            name=validate_feed_name(name),
            locations=_locations(folder, maildir),
            every_seconds=int(parse_interval(every).total_seconds()),
        )
    except InvalidFeed as error:
        fail(str(error))

    async def work(client: Client, settings: Settings) -> None:
        try:
            await client.create_schedule(schedule_id(feed.name), _schedule(feed, settings, paused))
        except ScheduleAlreadyRunningError:
            fail(f"feed {feed.name!r} exists; remove it with `irp feed remove {feed.name}` first")

    run_with_client(work)
    where = ", ".join(f"{location.kind.value} {location.path}" for location in feed.locations)
    state = "paused" if paused else "active"
    console.print(f"feed {feed.name}: {where}, every {format_interval(feed.every_seconds)} ({state})", markup=False, highlight=False)


@app.command(name="list")
def list_feeds(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """List feeds with their folders, interval, state, last run and recent results."""

    async def work(client: Client, settings: Settings) -> list[dict[str, Any]]:
        rows = []
        async for listed in await client.list_schedules():
            if feed_name(listed.id) is None:
                continue
            try:
                description = await client.get_schedule_handle(listed.id).describe()
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    continue  # removed since it was listed
                raise
            rows.append(await _describe_feed(client, description))
        return sorted(rows, key=lambda row: row["name"])

    rows = run_with_client(work)
    if as_json:
        print_json(rows)
        return
    table = Table("feed", "folders", "every", "paused", "last run", "recent results")
    for row in rows:
        folders = "\n".join(f"{location['kind']} {location['path']}" for location in row["locations"])
        results = "\n".join(_summary(run) for run in row["recent_runs"])
        last_run = row["last_run"][:19] if row["last_run"] else ""
        table.add_row(row["name"], folders, row["every"], "yes" if row["paused"] else "no", last_run, results)
    console.print(table)


@app.command()
def pause(
    name: Annotated[str, typer.Argument(help="Feed name.")],
    reason: Annotated[str, typer.Option(help="Why, kept as the schedule's note.")] = "paused with `irp feed pause`",
) -> None:
    """Pause a feed: its schedule starts no run until it is resumed."""
    _change_state(name, pause=True, note=reason)
    console.print(f"feed {name}: paused", markup=False, highlight=False)


@app.command()
def resume(
    name: Annotated[str, typer.Argument(help="Feed name.")],
    reason: Annotated[str, typer.Option(help="Why, kept as the schedule's note.")] = "resumed with `irp feed resume`",
) -> None:
    """Resume a paused feed."""
    _change_state(name, pause=False, note=reason)
    console.print(f"feed {name}: resumed", markup=False, highlight=False)


@app.command()
def remove(name: Annotated[str, typer.Argument(help="Feed name.")]) -> None:
    """Delete a feed's schedule; files already taken in stay where they are."""

    async def work(client: Client, settings: Settings) -> None:
        await _existing(client, name).delete()

    _run_for_feed(name, work)
    console.print(f"feed {name}: removed", markup=False, highlight=False)


def _locations(folder: Path | None, maildir: Path | None) -> list[FeedLocation]:
    """Build a feed's locations from the options, checking that each exists."""
    locations = []
    for kind, path in ((LocationKind.folder, folder), (LocationKind.maildir, maildir)):
        if path is None:
            continue
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise InvalidFeed(f"--{kind.value} {path} does not exist or is not a folder")
        locations.append(FeedLocation(kind=kind, path=str(resolved)))
    if not locations:
        raise InvalidFeed("a feed needs --folder DIR, --maildir DIR or both")
    return locations


def _schedule(feed: FeedInput, settings: Settings, paused: bool) -> Schedule:
    """Build the schedule that starts `FeedWorkflow` with the feed's settings every interval."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            FeedWorkflow.run,
            feed,
            id=schedule_id(feed.name),
            task_queue=settings.task_queue,
            static_summary=f"Feed {feed.name}",
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=parse_interval(f"{feed.every_seconds}s"))]),
        # A run still going when the next is due means the folder is busy; the next due run takes the rest.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(paused=paused, note="created paused with `irp feed add --paused`" if paused else None),
    )


async def _describe_feed(client: Client, description: ScheduleDescription) -> dict[str, Any]:
    """Build one row of `irp feed list` from a schedule's description."""
    action = description.schedule.action
    feed = None
    if isinstance(action, ScheduleActionStartWorkflow) and action.args:
        decoded = await description.data_converter.decode(action.args, [FeedInput])
        feed = decoded[0]
    recent = list(description.info.recent_actions)[-RECENT_RUNS_SHOWN:]
    return {
        "name": feed_name(description.id),
        "schedule": description.id,
        "locations": [location.model_dump(mode="json") for location in feed.locations] if feed else [],
        "every": format_interval(feed.every_seconds) if feed else "",
        "paused": description.schedule.state.paused,
        "note": description.schedule.state.note,
        "last_run": _iso(recent[-1].started_at) if recent else None,
        "next_run": _iso(_first(description.info.next_action_times)),
        "recent_runs": [await _run_outcome(client, result.action, result.started_at) for result in reversed(recent)],
    }


async def _run_outcome(client: Client, execution: Any, started_at: datetime) -> dict[str, Any]:
    """Return the status of one scheduled run and, once it completed, its counts and failures."""
    if not isinstance(execution, ScheduleActionExecutionStartWorkflow):
        return {"started_at": _iso(started_at), "status": "unknown"}
    handle = client.get_workflow_handle(execution.workflow_id, run_id=execution.first_execution_run_id, result_type=FeedRunResult)
    outcome: dict[str, Any] = {"workflow_id": execution.workflow_id, "started_at": _iso(started_at)}
    try:
        described = await handle.describe()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return {**outcome, "status": "expired"}  # past the namespace's retention

    outcome["status"] = described.status.name.lower() if described.status else "unknown"
    if described.status == WorkflowExecutionStatus.COMPLETED:
        result = await handle.result()
        outcome.update(result.model_dump(mode="json", include={"started", "merged", "failed"}))
        outcome["failures"] = [failure.model_dump(mode="json") for location in result.locations for failure in location.failures]
        outcome["errors"] = [location.error for location in result.locations if location.error]
    return outcome


def _summary(run: dict[str, Any]) -> str:
    """Describe one run in a few words for the table."""
    when = run["started_at"][11:19] if run.get("started_at") else "?"
    if run["status"] != "completed":
        return f"{when} {run['status']}"
    return f"{when} {run['started']} started, {run['merged']} merged, {run['failed']} failed"


def _change_state(name: str, *, pause: bool, note: str) -> None:
    """Pause or unpause a feed's schedule."""

    async def work(client: Client, settings: Settings) -> None:
        handle = _existing(client, name)
        if pause:
            await handle.pause(note=note)
        else:
            await handle.unpause(note=note)

    _run_for_feed(name, work)


def _existing(client: Client, name: str):
    """Return the handle of a feed's schedule, rejecting an invalid name."""
    try:
        return client.get_schedule_handle(schedule_id(validate_feed_name(name)))
    except InvalidFeed as error:
        fail(str(error))


def _run_for_feed(name: str, work) -> None:
    """Run a command's work on one feed, failing clearly when the feed does not exist."""

    async def guarded(client: Client, settings: Settings) -> None:
        try:
            await work(client, settings)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                fail(f"no feed {name!r}; `irp feed list` shows the feeds")
            raise

    run_with_client(guarded)


def _first(values) -> datetime | None:
    return values[0] if values else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
