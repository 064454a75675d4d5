"""Feeds: folders that a Temporal Schedule takes reports in from, and what each run did."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, computed_field


class LocationKind(StrEnum):
    """File layout of a feed location."""

    folder = "folder"
    """A plain drop folder: every regular file at its top level is a report."""
    maildir = "maildir"
    """A Maildir: every message in its `new/` and `cur/` folders is a report."""


class FeedLocation(BaseModel):
    """One folder a feed reads."""

    kind: LocationKind
    path: str
    """Absolute path on the worker's file system."""


class FeedInput(BaseModel):
    """A feed's settings: the argument its schedule starts `FeedWorkflow` with."""

    name: str
    locations: list[FeedLocation]
    every_seconds: int
    """Interval of the schedule, kept here so that a run can report how often it runs."""
    settle_seconds: float = 2.0
    """Files modified more recently than this are left for the next run, as they may still be written."""


class TakeInInput(BaseModel):
    """One location of a feed to take the reports in from."""

    feed: str
    location: FeedLocation
    settle_seconds: float = 2.0


class FileFailure(BaseModel):
    """A file that could not be taken in, and why."""

    file: str
    error: str
    moved_to: str | None = None
    """New path of the file under `failed/`, or None when it stays for the next run."""


class LocationResult(BaseModel):
    """Outcome of one run for one location."""

    location: FeedLocation
    started: int = 0
    """Files that started a new incident."""
    merged: int = 0
    """Files added to a running incident."""
    failed: int = 0
    """Files that could not be taken in, each moved to `failed/` where possible."""
    deferred: int = 0
    """Files left in place because Temporal could not be reached; the next run takes them."""
    remaining: int = 0
    """Files beyond this run's limit, left for the next run."""
    failures: list[FileFailure] = Field(default_factory=list)
    error: str | None = None
    """Reason the location could not be read at all, such as a missing folder."""


class FeedRunResult(BaseModel):
    """Outcome of one feed run, location by location."""

    feed: str
    locations: list[LocationResult] = Field(default_factory=list)

    @computed_field
    @property
    def started(self) -> int:
        """Count the files that started an incident."""
        return sum(location.started for location in self.locations)

    @computed_field
    @property
    def merged(self) -> int:
        """Count the files added to a running incident."""
        return sum(location.merged for location in self.locations)

    @computed_field
    @property
    def failed(self) -> int:
        """Count the files that could not be taken in, plus the locations that could not be read."""
        return sum(location.failed + (1 if location.error else 0) for location in self.locations)
