"""Render an audit report as Markdown, HTML or JSON."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from irp.audit.report import AuditReport
from irp.rendering import template_environment

FORMATS = ("md", "html", "json")


def render_report(report: AuditReport, output_format: str) -> str:
    """Render a report in one of `FORMATS`."""
    if output_format == "json":
        return report.model_dump_json(indent=2) + "\n"
    if output_format not in FORMATS:
        raise ValueError(f"unknown report format `{output_format}`; expected one of {', '.join(FORMATS)}")

    environment = template_environment()
    # Untrusted text (reasons, payloads) reaches both templates, and the `.html.j2` name
    # does not switch autoescape on by extension.
    environment.autoescape = output_format == "html"
    environment.filters.update(cell=markdown_cell, when=format_time, duration=format_duration)
    return environment.get_template(f"audit.{output_format}.j2").render(report=report)


def markdown_cell(value: Any) -> str:
    """Make a value safe inside a Markdown table cell: one line, pipes and angle brackets escaped."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def format_time(value: datetime | None) -> str:
    """Format an instant in UTC to the millisecond, or `-` for none."""
    if value is None:
        return "-"
    return value.isoformat(timespec="milliseconds")


def format_duration(seconds: float) -> str:
    """Format a timer duration as days, hours, minutes and seconds."""
    return str(timedelta(seconds=round(seconds, 3)))
