"""Logging set-up of the worker and `irp up`: plain text, or one JSON object per line."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from temporalio import activity, workflow

FORMAT_VARIABLE = "IRP_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEMPORAL_EXTRAS = ("temporal_workflow", "temporal_activity")
"""Record attributes that Temporal's workflow and activity loggers add: ids, types, task queue, attempt."""


class JsonFormatter(logging.Formatter):
    """Formatter of one JSON object per record: time, level, logger, message and Temporal's context."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Only Temporal's known extras are copied: other attributes could carry anything a caller passed.
        for name in TEMPORAL_EXTRAS:
            value = getattr(record, name, None)
            if isinstance(value, Mapping):
                entry[name] = {key: _plain(item) for key, item in value.items()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(environ: Mapping[str, str] = os.environ, level: int = logging.INFO) -> str:
    """Configure the root logger from IRP_LOG_FORMAT (`text`, the default, or `json`) and return the format used."""
    requested = environ.get(FORMAT_VARIABLE, "").strip().lower() or "text"
    handler = logging.StreamHandler()
    if requested == "json":
        handler.setFormatter(JsonFormatter())
        # The JSON entry carries the workflow and activity context, so the message need not repeat it.
        workflow.logger.workflow_info_on_message = False
        activity.logger.activity_info_on_message = False
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])

    if requested not in ("text", "json"):
        logging.getLogger(__name__).warning(
            "%s `%s` is not `text` or `json`; logging as text", FORMAT_VARIABLE, requested[:40]
        )
        return "text"
    return requested


def _plain(value: object) -> object:
    """Return a JSON-ready value: numbers, strings, booleans and None as they are, anything else as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
