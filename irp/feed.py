"""Feeds as plain functions: names, intervals, which files a run takes and where they go after."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

from models.feed import FeedLocation, LocationKind

SCHEDULE_PREFIX = "irp-feed-"
FEED_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
INTERVAL = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
INTERVAL_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MIN_INTERVAL_SECONDS = 1

PROCESSED_FOLDER = "processed"
FAILED_FOLDER = "failed"
ERROR_SUFFIX = ".error.txt"
MAILDIR_FOLDERS = ("new", "cur")
IN_PROGRESS_SUFFIXES = {".tmp", ".part", ".partial"}
"""Suffixes that copy tools give a file while they still write it."""


class InvalidFeed(ValueError):
    """A feed definition that cannot be used; the message names the value and the problem."""


def validate_feed_name(name: str) -> str:
    """Return a feed name, or raise `InvalidFeed` when it cannot be part of a schedule id."""
    if not FEED_NAME.fullmatch(name):
        raise InvalidFeed(
            f"feed name {name!r} is invalid: use 1 to 63 lower-case letters, digits, `-` or `_`,"
            " starting with a letter or digit"
        )
    return name


def schedule_id(name: str) -> str:
    """Return the id of a feed's Temporal Schedule."""
    return SCHEDULE_PREFIX + name


def feed_name(schedule: str) -> str | None:
    """Return the feed name of a schedule id, or None when the schedule is not a feed's."""
    return schedule.removeprefix(SCHEDULE_PREFIX) if schedule.startswith(SCHEDULE_PREFIX) else None


def parse_interval(text: str) -> timedelta:
    """Parse an interval such as `30s`, `5m`, `1h30m` or `2d`; a bare number counts minutes."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        cleaned += "m"
    found = INTERVAL.fullmatch(cleaned)
    if not cleaned or found is None:
        raise InvalidFeed(f"interval {text!r} is invalid: expected a duration such as 30s, 5m, 1h30m or 2d")

    seconds = sum(int(value) * unit for value, (_, unit) in zip(found.groups(), INTERVAL_UNITS) if value)
    if seconds < MIN_INTERVAL_SECONDS:
        raise InvalidFeed(f"interval {text!r} is invalid: it must be at least {MIN_INTERVAL_SECONDS} second")
    return timedelta(seconds=seconds)


def format_interval(seconds: int) -> str:
    """Format a number of seconds as `1h30m`, the form `parse_interval` reads."""
    parts = []
    for suffix, unit in INTERVAL_UNITS:
        count, seconds = divmod(seconds, unit)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts) or "0s"


def location_problem(location: FeedLocation) -> str | None:
    """Return why a location cannot be read, or None when it can."""
    root = Path(location.path)
    if not root.is_dir():
        return f"{location.kind.value} {root} does not exist or is not a folder"
    if location.kind is LocationKind.maildir and not any((root / name).is_dir() for name in MAILDIR_FOLDERS):
        return f"maildir {root} has neither a new/ nor a cur/ folder, so it is not a Maildir"
    return None


def pending_files(location: FeedLocation, settle_seconds: float, now: float | None = None) -> list[Path]:
    """List the files a run takes in, oldest first, leaving out files that may still be written."""
    root = Path(location.path)
    folders = [root] if location.kind is LocationKind.folder else [root / name for name in MAILDIR_FOLDERS]
    now = time.time() if now is None else now

    found: list[tuple[float, str, Path]] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if _in_progress(path):
                continue
            try:
                status = path.lstat()
            except FileNotFoundError:
                continue
            if not path.is_file() or path.is_symlink():
                continue
            if now - status.st_mtime < settle_seconds:
                continue
            found.append((status.st_mtime, path.name, path))
    return [path for _, _, path in sorted(found)]


def _in_progress(path: Path) -> bool:
    """Tell whether a file's name marks it as hidden or still being copied in."""
    return path.name.startswith(".") or path.suffix.lower() in IN_PROGRESS_SUFFIXES


def location_root(location: FeedLocation) -> Path:
    """Return the folder that contains a location's `processed/` and `failed/` folders."""
    return Path(location.path)


def move_aside(path: Path, folder: Path) -> Path:
    """Move a file into a folder under a name no other file there has, and return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    # NOTE: the check and the rename are two steps, so two processes moving files with the
    # same name into one folder at once could overwrite one; a feed's runs never overlap.
    while target.exists() or _error_file(target).exists():
        counter += 1
        target = folder / f"{path.stem}-{counter}{path.suffix}"
    path.rename(target)
    return target


def move_to_failed(path: Path, root: Path, problem: str) -> Path:
    """Move a file into `failed/` and write the problem into a `.error.txt` file beside it."""
    target = move_aside(path, root / FAILED_FOLDER)
    _error_file(target).write_text(f"{path}: {problem}\n", encoding="utf-8")
    return target


def _error_file(path: Path) -> Path:
    return path.with_name(path.name + ERROR_SUFFIX)
