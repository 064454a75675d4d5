"""A folder of exported histories with a SHA-256 manifest: what `irp audit export` and the archive schedule write."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

from irp.audit.build import CLOSE_STATUS
from irp.audit.history import HistoryError, history_to_json, read_history
from irp.rendering import safe_file_name
from irp.settings import Settings

ARCHIVE_VARIABLE = "IRP_ARCHIVE_DIR"
MANIFEST = "manifest.json"
MANIFEST_HASH = "manifest.sha256"
MANIFEST_FORMAT = "irp-history-archive/1"
LOCK_FILE = ".lock"


class ArchiveError(ValueError):
    """An archive folder whose manifest is missing or malformed."""


@dataclass
class ArchiveCheck:
    """The outcome of checking an archive's hashes: the problems found, each naming its file."""

    problems: list[str] = field(default_factory=list)
    histories: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Manifest entries by file name, for the files whose hash matched."""


def archive_dir(settings: Settings) -> Path:
    """Return the archive folder: IRP_ARCHIVE_DIR, else `archive/` under IRP_HOME."""
    configured = os.environ.get(ARCHIVE_VARIABLE, "").strip()
    return Path(configured).expanduser().resolve() if configured else settings.home / "archive"


def sha256_file(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# NOTE: the hashes reveal a changed file, not a folder rewritten with new hashes; only a manifest hash
# kept elsewhere (`irp audit export` prints it) detects that.
def manifest_body_hash(manifest: dict[str, Any]) -> str:
    """Return the SHA-256 of the manifest's canonical JSON without its own `manifest_sha256` field."""
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the archive, so two writers never interleave manifest updates."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(directory: Path) -> dict[str, Any]:
    """Read an archive's manifest; an empty manifest when the folder has none yet."""
    path = directory / MANIFEST
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "histories": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArchiveError(f"{path} is not readable JSON: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("histories"), dict):
        raise ArchiveError(f"{path} is not an archive manifest: expected an object with a `histories` object")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ArchiveError(f"{path} has format {manifest.get('format')!r}; expected {MANIFEST_FORMAT!r}")
    return manifest


def add_histories(directory: Path, histories: list[WorkflowHistory], namespace: str = "") -> list[str]:
    """Write histories as `<incident id>.json` and record their hashes in the manifest; return the file names."""
    with locked(directory):
        manifest = read_manifest(directory)
        entries: dict[str, dict[str, Any]] = manifest["histories"]
        written = []
        for history in histories:
            name = _file_name(entries, history)
            data = history_to_json(history).encode("utf-8")
            _write_atomically(directory / name, data)
            entries[name] = _entry(history, data)
            written.append(name)
        if namespace:
            manifest["namespace"] = namespace
        _write_manifest(directory, manifest)
    return written


def archived_run_ids(directory: Path) -> set[str]:
    """Return the run ids the archive holds."""
    return {entry.get("run_id", "") for entry in read_manifest(directory)["histories"].values()}


def find_in_archive(directory: Path, incident_id: str) -> WorkflowHistory | None:
    """Return the latest archived run of an incident, checking its hash, or None when the archive lacks it."""
    entries = [
        (name, entry) for name, entry in read_manifest(directory)["histories"].items()
        if entry.get("incident_id") == incident_id
    ]
    if not entries:
        return None
    name, entry = max(entries, key=lambda item: item[1].get("closed_at") or "")
    path = directory / name
    if not path.exists() or sha256_file(path) != entry.get("sha256"):
        raise ArchiveError(f"{path} does not match the SHA-256 in {directory / MANIFEST}; the archived history was changed")
    return read_history(path, incident_id)


def check_archive(directory: Path) -> ArchiveCheck:
    """Check the manifest's own hashes and every file's hash, naming each changed, missing or unlisted file."""
    check = ArchiveCheck()
    if not (directory / MANIFEST).exists():
        check.problems.append(f"{directory / MANIFEST}: missing")
        return check
    try:
        manifest = read_manifest(directory)
    except ArchiveError as error:
        check.problems.append(str(error))
        return check

    manifest_path = directory / MANIFEST
    if manifest.get("manifest_sha256") != manifest_body_hash(manifest):
        check.problems.append(f"{manifest_path}: its content does not match its `manifest_sha256`; the manifest was changed")
    hash_file = directory / MANIFEST_HASH
    if not hash_file.exists():
        check.problems.append(f"{hash_file}: missing")
    elif hash_file.read_text(encoding="utf-8", errors="replace").split()[:1] != [sha256_file(manifest_path)]:
        check.problems.append(f"{manifest_path}: its SHA-256 differs from the one in {MANIFEST_HASH}; the manifest was changed")

    for name, entry in sorted(manifest["histories"].items()):
        path = directory / name
        if Path(name).name != name:
            check.problems.append(f"{manifest_path}: entry {name!r} is not a plain file name")
        elif not path.exists():
            check.problems.append(f"{path}: missing")
        elif sha256_file(path) != entry.get("sha256"):
            check.problems.append(f"{path}: SHA-256 differs from the manifest; the file was changed")
        else:
            check.histories[name] = entry

    listed = set(manifest["histories"]) | {MANIFEST}
    for path in sorted(directory.glob("*.json")):
        if path.name not in listed:
            check.problems.append(f"{path}: not listed in the manifest")
    return check


def read_archived(directory: Path, name: str, entry: dict[str, Any]) -> WorkflowHistory:
    """Read one archived history under the incident id its manifest entry names."""
    try:
        return read_history(directory / name, entry.get("incident_id") or None)
    except HistoryError as error:
        raise ArchiveError(str(error)) from None


def _file_name(entries: dict[str, dict[str, Any]], history: WorkflowHistory) -> str:
    """Name the file `<id>.json`, or `<id>.<run id>.json` when another run of the incident already uses that name."""
    base = safe_file_name(history.workflow_id)
    for name in (f"{base}.json", f"{base}.{history.run_id}.json"):
        entry = entries.get(name)
        if entry is None or entry.get("run_id") == history.run_id:
            return name
    raise ArchiveError(f"the archive already contains two files for run {history.run_id} of {history.workflow_id}")


def _entry(history: WorkflowHistory, data: bytes) -> dict[str, Any]:
    last = history.events[-1]
    closed = last.event_type in CLOSE_STATUS
    return {
        "incident_id": history.workflow_id,
        "run_id": history.run_id,
        "events": len(history.events),
        "closed_at": last.event_time.ToDatetime(tzinfo=UTC).isoformat() if closed else None,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    manifest["updated_at"] = datetime.now(UTC).isoformat()
    manifest.pop("manifest_sha256", None)
    manifest["manifest_sha256"] = manifest_body_hash(manifest)
    data = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    _write_atomically(directory / MANIFEST, data)
    _write_atomically(directory / MANIFEST_HASH, f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n".encode())


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
