"""Audits of incident histories: fetch, replay, report, export and verify."""

from irp.audit.build import build_report
from irp.audit.history import HistoryError, fetch_history, history_from_json, history_to_json, read_history, write_history
from irp.audit.replayer import ReplayVerdict, replay
from irp.audit.report import AuditReport

__all__ = [
    "AuditReport",
    "HistoryError",
    "ReplayVerdict",
    "build_report",
    "fetch_history",
    "history_from_json",
    "history_to_json",
    "read_history",
    "replay",
    "write_history",
]
