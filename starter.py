"""Start incidents from report files: `python starter.py FILE|DIR...` (same as `irp intake`)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from irp.client import connect
from irp.intake import expand_paths, intake_file
from irp.settings import load_settings


async def start_incidents(paths: list[Path]) -> int:
    """Take each report in and print what happened; return the exit code."""
    settings = load_settings()
    client = await connect(settings)
    exit_code = 0
    for path in expand_paths(paths):
        result = await intake_file(client, settings, path)
        print(result.model_dump_json())
        if result.action == "rejected":
            exit_code = 1
    return exit_code


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: python starter.py FILE|DIR...", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(start_incidents([Path(arg) for arg in sys.argv[1:]])))
