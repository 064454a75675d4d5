"""Benchmark records: the machine's description, the JSON result file and the RESULTS.md table."""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS_PAGE = BENCH_DIR / "RESULTS.md"


def describe_machine() -> dict[str, Any]:
    """Describe the CPU, cores, memory and the Python and temporalio versions."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "temporalio": version("temporalio"),
        "system": f"{platform.system()} {platform.release()}",
    }


def short_machine(machine: dict[str, Any]) -> str:
    """Describe a machine in one table cell."""
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB,"
        f" Python {machine['python']}, temporalio {machine['temporalio']}"
    )


def write_result(kind: str, started: datetime, result: dict[str, Any]) -> Path:
    """Write one run's result as `results/KIND-<UTC timestamp>.json` and return the path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def append_row(title: str, header: list[str], row: list[str], preface: str = "") -> None:
    """Add a row to the table under the `# title` heading of RESULTS.md, creating the section if missing."""
    heading = f"# {title}"
    lines = RESULTS_PAGE.read_text(encoding="utf-8").splitlines() if RESULTS_PAGE.exists() else []

    if heading not in lines:
        # The section goes first: other benchmarks append their rows at the end of the page.
        section = [heading, "", *([preface, ""] if preface else []), _table_line(header), _table_line(["---"] * len(header))]
        section.append(_table_line(row))
        lines = section + ([""] + lines if lines else [])
    else:
        start = lines.index(heading)
        table_start = next(index for index in range(start, len(lines)) if lines[index].startswith("|"))
        end = table_start
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines.insert(end, _table_line(row))
    RESULTS_PAGE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _table_line(cells: list[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"


def _cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    """Return the machine's memory in GiB from /proc/meminfo."""
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return round(int(found.group(1)) / 1024 / 1024, 1) if found else None
