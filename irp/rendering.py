"""Render outputs from the Jinja2 templates in `templates/`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"


def template_environment(templates_dir: Path = TEMPLATES_DIR) -> SandboxedEnvironment:
    """Build a sandboxed environment that escapes HTML and fails on missing values."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(template: str, context: dict[str, Any]) -> str:
    """Render one template with the given context."""
    return template_environment().get_template(template).render(**context)


def safe_file_name(name: str) -> str:
    """Turn an incident id into a file name with no path separators."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "incident"
