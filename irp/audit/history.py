"""Workflow histories: fetched from Temporal, read and written as `temporal workflow show --output json` does."""

from __future__ import annotations

import json
from pathlib import Path

from google.protobuf.json_format import ParseError
from temporalio.client import Client, WorkflowHistory

MAX_HISTORY_BYTES = 256 * 1024 * 1024


class HistoryError(ValueError):
    """A history file that cannot be read as a Temporal workflow history."""


async def fetch_history(client: Client, incident_id: str) -> WorkflowHistory:
    """Fetch the full history of an incident's latest run from Temporal."""
    return await client.get_workflow_handle(incident_id).fetch_history()


def history_to_json(history: WorkflowHistory) -> str:
    """Serialise a history as the `temporal` CLI's `--output json` does (no workflow id outside the events)."""
    return history.to_json() + "\n"


def history_from_json(text: str | bytes, workflow_id: str | None = None, source: str = "history") -> WorkflowHistory:
    """Parse a history from CLI, UI or `history_to_json` JSON; the workflow id defaults to the one the start event records."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HistoryError(f"{source} is not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("events"), list) or not document["events"]:
        raise HistoryError(f"{source} is not a workflow history: expected a JSON object with a non-empty `events` list")

    try:
        history = WorkflowHistory.from_json(workflow_id or "", document)
    except (ParseError, ValueError, TypeError, KeyError) as error:
        raise HistoryError(f"{source} is not a valid workflow history: {error}") from None

    first = history.events[0]
    if not first.HasField("workflow_execution_started_event_attributes"):
        raise HistoryError(f"{source} does not start with a WorkflowExecutionStarted event")
    recorded_id = first.workflow_execution_started_event_attributes.workflow_id
    if workflow_id is None:
        if not recorded_id:
            raise HistoryError(f"{source} does not record its workflow id; name the incident it belongs to")
        history = WorkflowHistory(recorded_id, history.events)
    return history


def read_history(path: Path, workflow_id: str | None = None) -> WorkflowHistory:
    """Read a history JSON file, refusing files too large to be one incident's history."""
    try:
        size = path.stat().st_size
        if size > MAX_HISTORY_BYTES:
            raise HistoryError(f"{path} is {size} bytes, more than the {MAX_HISTORY_BYTES} bytes a history may have")
        text = path.read_bytes()
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error.strerror or error}") from None
    return history_from_json(text, workflow_id, source=str(path))


def write_history(history: WorkflowHistory, path: Path) -> bytes:
    """Write a history JSON file and return the bytes written."""
    data = history_to_json(history).encode("utf-8")
    path.write_bytes(data)
    return data
