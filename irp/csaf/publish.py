"""Publishing CSAF documents into a directory-based CSAF provider layout (CSAF 2.0 section 7)."""

from __future__ import annotations

import copy
import csv
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from pydantic import ValidationError
from referencing.jsonschema import DRAFT202012

from irp.csaf.failure import Failure, mapping
from irp.csaf.revision_checks import parse_date, parse_version
from irp.csaf.schema import registry
from irp.csaf.validate import validate_document
from irp.settings import DEFAULT_CSAF_BASE_URL
from models.csaf import Revision

logger = logging.getLogger(__name__)

PROVIDER_METADATA = "provider-metadata.json"
PROVIDER_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/provider_json_schema.json"

# Folder of each TLP label. TLP:WHITE, TLP:GREEN and unlabeled documents may be served
# freely; TLP:AMBER and TLP:RED ones must be access protected under another path.
TLP_FOLDERS = {"WHITE": "white", "GREEN": "green", "AMBER": "amber", "RED": "red"}
PUBLIC_LABELS = ("WHITE", "GREEN")
RESTRICTED_LABELS = ("AMBER", "RED")

HASH_ALGORITHMS = ("sha256", "sha512")
INITIAL_SUMMARY = "Initial version."

_FILE_NAME_RUN = re.compile(r"[^+\-a-z0-9]+")
_YEAR_FOLDER = re.compile(r"^[0-9]{4}$")

# Parts of a document that change with every build of the same facts.
_VOLATILE_TRACKING_FIELDS = ("current_release_date", "initial_release_date", "generator", "revision_history", "version")


class PublicationRefused(ValueError):
    """A document that must not go into the provider directory, with the failures that stop it."""

    def __init__(self, tracking_id: str, failures: list[Failure]) -> None:
        self.tracking_id = tracking_id
        self.failures = failures
        listed = "; ".join(f"{failure.test} at {failure.path}: {failure.message}" for failure in failures[:10])
        more = f" (and {len(failures) - 10} more)" if len(failures) > 10 else ""
        super().__init__(f"CSAF document {tracking_id!r} was not published: {listed}{more}")


class InvalidPublishedDocument(ValueError):
    """A file in the provider directory that cannot be read as the CSAF document it should be."""


@dataclass(frozen=True)
class PublishResult:
    """Location, version and digests of a published document."""

    path: Path
    relative_path: str
    """Path below the TLP folder, as `index.txt` and `changes.csv` list it: `<year>/<file name>`."""
    url: str
    tlp_folder: str
    version: str
    sha256: str
    sha512: str
    written: bool
    """False when the directory already held this document and nothing was rewritten."""


def file_name(tracking_id: str) -> str:
    """Return the file name CSAF 2.0 prescribes: the lower-cased id, runs of other characters as `_`, `.json`."""
    return _FILE_NAME_RUN.sub("_", tracking_id.lower()) + ".json"


def publish(
    document: dict[str, Any],
    provider_dir: Path,
    *,
    now: datetime,
    base_url: str = DEFAULT_CSAF_BASE_URL,
    allow_restricted: bool = False,
) -> PublishResult:
    """Write a valid document with its hash files, then rewrite the indexes and provider-metadata.json.

    Raises PublicationRefused when the document fails validation, carries no TLP
    label, is TLP:AMBER or TLP:RED without `allow_restricted`, or would replace a
    newer published version or the same version with other content. Publishing
    the same document again writes nothing.
    """
    base_url = _checked_base_url(base_url)
    tracking_id = _tracking_id(document)
    label = _checked_label(document, tracking_id, allow_restricted)
    failures = validate_document(document)
    if failures:
        raise PublicationRefused(tracking_id, failures)

    name = file_name(tracking_id)
    folder = TLP_FOLDERS[label]
    relative_path = f"{_year(document)}/{name}"
    content = _serialize(document)

    path = provider_dir / folder / relative_path
    provider_dir.mkdir(parents=True, exist_ok=True)
    with _directory_lock(provider_dir):
        previous = find_published(provider_dir, tracking_id)
        if previous is not None and _keep_previous(document, read_document(previous), tracking_id):
            # A retry with the same facts keeps the published bytes and only repairs what a crash left out.
            logger.info("CSAF document %s version %s is already published", tracking_id, _version(document))
            path, content = previous, previous.read_bytes()
            folder = previous.parent.parent.name

        written = _write_document(path, content)
        removed_from = _remove_stale_copies(provider_dir, name, keep=path)
        for touched in {folder, *removed_from}:
            written |= _write_indexes(provider_dir / touched)
        written |= _write_provider_metadata(provider_dir, document, base_url, now)

    if written:
        logger.info("published CSAF document %s version %s as %s", tracking_id, _version(document), path.relative_to(provider_dir))
    return _result_for(path, base_url, written=written)


def next_revision(provider_dir: Path, tracking_id: str, summary: str, now: datetime) -> list[Revision]:
    """Return the revision history for the next version of a document: the published history plus one entry.

    Without a published document the history is a first version dated `now`.
    The new entry is never dated before the latest published one, so the history stays sorted.
    """
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    path = find_published(provider_dir, tracking_id)
    if path is None:
        return [Revision(date=now, number="1", summary=summary)]

    published = read_document(path)
    history = revision_history(published, path)
    latest = max(history, key=lambda revision: (revision.date, _precedence(revision.number)))
    number = _next_number(_version(published) or latest.number, path)
    return [*history, Revision(date=max(now, latest.date), number=number, summary=summary)]


def find_published(provider_dir: Path, tracking_id: str) -> Path | None:
    """Return the published file of a tracking id in any TLP and year folder, the newest if several exist."""
    copies = list(_copies(provider_dir, file_name(tracking_id)))
    if not copies:
        return None
    return max(copies, key=lambda path: (path.parent.name, path.stat().st_mtime_ns))


def read_document(path: Path) -> dict[str, Any]:
    """Read a published CSAF document, or raise InvalidPublishedDocument naming the file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidPublishedDocument(f"published CSAF file {path} cannot be read: {error}") from None
    if not isinstance(document, dict):
        raise InvalidPublishedDocument(f"published CSAF file {path} is not a JSON object")
    return document


def revision_history(document: dict[str, Any], path: Path) -> list[Revision]:
    """Return the revision history of a published document, or raise InvalidPublishedDocument naming its file."""
    entries = _tracking(document).get("revision_history")
    if not isinstance(entries, list) or not entries:
        raise InvalidPublishedDocument(f"published CSAF file {path} has no revision history")
    try:
        return [Revision.model_validate(entry) for entry in entries]
    except ValidationError as error:
        raise InvalidPublishedDocument(f"published CSAF file {path} has an invalid revision history: {error}") from None


def document_url(base_url: str, tlp_folder: str, relative_path: str) -> str:
    """Return the public URL of a document in the provider directory."""
    return f"{base_url.rstrip('/')}/{tlp_folder}/{relative_path}"


def same_content(document: dict[str, Any], other: dict[str, Any]) -> bool:
    """Return whether two documents state the same facts, ignoring tracking dates, version, history and generator."""
    return _substance(document) == _substance(other)


def describe_changes(previous: dict[str, Any], document: dict[str, Any]) -> str:
    """Summarise what a new version changes, for its revision history entry."""
    sections = [label for label, part in _SECTIONS if part(previous) != part(document)]
    if _tracking(document).get("status") == "final" and _tracking(previous).get("status") != "final":
        sections.append("final status")
    if not sections:
        return "Updated the document."
    return "Updated " + ", ".join(sections) + "."


def provider_metadata(publisher: dict[str, Any], folders: list[str], base_url: str, last_updated: datetime) -> dict[str, Any]:
    """Build provider-metadata.json for a directory-based CSAF provider."""
    base_url = base_url.rstrip("/")
    return {
        "canonical_url": f"{base_url}/{PROVIDER_METADATA}",
        "distributions": [{"directory_url": f"{base_url}/{folder}/"} for folder in folders],
        "last_updated": _timestamp(last_updated),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": publisher,
        "role": "csaf_provider",
    }


def provider_metadata_failures(metadata: Any) -> list[Failure]:
    """Validate provider metadata against the official CSAF 2.0 provider schema."""
    return [
        Failure("provider schema", "/" + "/".join(str(part) for part in error.absolute_path), error.message)
        for error in _provider_validator().iter_errors(metadata)
    ]


# Rejections.


def _checked_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"invalid CSAF base URL {base_url!r}: expected an https:// URL without query or fragment")
    return base_url.rstrip("/")


def _tracking_id(document: Any) -> str:
    tracking_id = _tracking(document).get("id")
    if not isinstance(tracking_id, str) or not tracking_id.strip():
        failure = Failure("publication", "/document/tracking/id", "missing or empty tracking id")
        raise PublicationRefused(str(tracking_id), [failure])
    return tracking_id


def _checked_label(document: dict[str, Any], tracking_id: str, allow_restricted: bool) -> str:
    """Return the document's TLP label; reject an unlabeled or restricted document."""
    path = "/document/distribution/tlp/label"
    label = mapping(mapping(mapping(document.get("document")).get("distribution")).get("tlp")).get("label")
    if label not in TLP_FOLDERS:
        message = f"TLP label {label!r} is missing or unknown; label the document WHITE, GREEN, AMBER or RED"
        raise PublicationRefused(tracking_id, [Failure("publication", path, message)])
    if label in RESTRICTED_LABELS and not allow_restricted:
        message = f"TLP:{label} documents are not published to the public directory; an embargoed incident stays TLP:RED"
        raise PublicationRefused(tracking_id, [Failure("publication", path, message)])
    return label


def _keep_previous(document: dict[str, Any], previous: dict[str, Any], tracking_id: str) -> bool:
    """Return True to keep the published copy; reject a downgrade, or changed content under the same version."""
    new, old = _precedence(_version(document)), _precedence(_version(previous))
    path = "/document/tracking/version"
    if new < old:
        message = f"version {_version(document)} is older than the published version {_version(previous)}"
        raise PublicationRefused(tracking_id, [Failure("publication", path, message)])
    if new > old:
        return False
    if not same_content(document, previous):
        message = f"version {_version(document)} is already published with other content; publish the change as a new version"
        raise PublicationRefused(tracking_id, [Failure("publication", path, message)])
    return True


# The directory.


@contextmanager
def _directory_lock(provider_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so two workers never rewrite the indexes from stale views."""
    # The lock file sits beside the directory, so the web server never serves it.
    # NOTE: flock is advisory and may not hold across hosts on network file systems.
    lock_path = provider_dir.parent / f".{provider_dir.name}.lock"
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _copies(provider_dir: Path, name: str) -> Iterator[Path]:
    for folder in TLP_FOLDERS.values():
        for path in (provider_dir / folder).glob(f"*/{name}"):
            if _YEAR_FOLDER.match(path.parent.name) and path.is_file():
                yield path


def _write_document(path: Path, content: bytes) -> bool:
    written = _write_atomically(path, content)
    for algorithm in HASH_ALGORITHMS:
        digest = hashlib.new(algorithm, content).hexdigest()
        written |= _write_atomically(path.with_name(f"{path.name}.{algorithm}"), f"{digest}  {path.name}\n".encode())
    return written


def _remove_stale_copies(provider_dir: Path, name: str, keep: Path) -> set[str]:
    """Delete other copies of the same document, such as the TLP:RED copy of an embargo now lifted."""
    folders: set[str] = set()
    for path in list(_copies(provider_dir, name)):
        if path == keep:
            continue
        for stale in (path, *(path.with_name(f"{path.name}.{algorithm}") for algorithm in HASH_ALGORITHMS)):
            stale.unlink(missing_ok=True)
        folders.add(path.parent.parent.name)
        logger.info("removed the previous copy %s", path.relative_to(provider_dir))
    return folders


def _write_indexes(tlp_dir: Path) -> bool:
    """Rewrite `index.txt` and `changes.csv` of one TLP folder from the documents it holds."""
    entries = []
    for path in sorted(tlp_dir.glob("*/*.json")):
        if not _YEAR_FOLDER.match(path.parent.name):
            continue
        released = _tracking(read_document(path)).get("current_release_date")
        entries.append((f"{path.parent.name}/{path.name}", released if isinstance(released, str) else ""))

    index = "".join(f"{relative}\n" for relative, _ in entries)
    newest_first = sorted(entries, key=lambda entry: entry[0])
    newest_first.sort(key=lambda entry: _sortable_date(entry[1]), reverse=True)
    changes = io.StringIO()
    csv.writer(changes, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(newest_first)

    written = _write_atomically(tlp_dir / "index.txt", index.encode())
    written |= _write_atomically(tlp_dir / "changes.csv", changes.getvalue().encode())
    return written


def _write_provider_metadata(provider_dir: Path, document: dict[str, Any], base_url: str, now: datetime) -> bool:
    """Write provider-metadata.json when its content changes; `last_updated` moves only then."""
    folders = [TLP_FOLDERS[label] for label in PUBLIC_LABELS if (provider_dir / TLP_FOLDERS[label]).is_dir()]
    publisher = mapping(mapping(document.get("document")).get("publisher"))
    metadata = provider_metadata(publisher, folders or [TLP_FOLDERS["WHITE"]], base_url, now)
    failures = provider_metadata_failures(metadata)
    if failures:
        raise PublicationRefused(_tracking_id(document), failures)

    path = provider_dir / PROVIDER_METADATA
    if path.is_file():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            existing = None
        if isinstance(existing, dict) and {**existing, "last_updated": metadata["last_updated"]} == metadata:
            return False
    return _write_atomically(path, _serialize(metadata))


def _write_atomically(path: Path, content: bytes) -> bool:
    """Replace a file through a temporary file and a rename; leave it untouched when the content is the same."""
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _result_for(path: Path, base_url: str, *, written: bool) -> PublishResult:
    content = path.read_bytes()
    folder = path.parent.parent.name
    relative_path = f"{path.parent.name}/{path.name}"
    return PublishResult(
        path=path,
        relative_path=relative_path,
        url=document_url(base_url, folder, relative_path),
        tlp_folder=folder,
        version=_version(json.loads(content)) or "",
        sha256=hashlib.sha256(content).hexdigest(),
        sha512=hashlib.sha512(content).hexdigest(),
        written=written,
    )


# Reading documents.


def _tracking(document: Any) -> dict[str, Any]:
    return mapping(mapping(mapping(document).get("document")).get("tracking"))


def _version(document: Any) -> str | None:
    version = _tracking(document).get("version")
    return version if isinstance(version, str) else None


def _precedence(number: str | None) -> tuple:
    version = parse_version(number)
    return version.precedence if version is not None else ()


def _year(document: dict[str, Any]) -> int:
    # The folder is the year written in the date itself, not the UTC year.
    released = parse_date(_tracking(document).get("initial_release_date"))
    if released is None:
        raise PublicationRefused(
            _tracking_id(document),
            [Failure("publication", "/document/tracking/initial_release_date", "missing or invalid date")],
        )
    return released.year


def _next_number(current: str, path: Path) -> str:
    """Return the version after `current`: the next integer, or the next major semantic version."""
    version = parse_version(current)
    if version is None:
        raise InvalidPublishedDocument(f"published CSAF file {path} has an invalid version {current!r}")
    if version.semantic:
        return f"{version.major + 1}.0.0"
    return str(version.major + 1)


def _sortable_date(value: str) -> datetime:
    return parse_date(value) or datetime.min.replace(tzinfo=UTC)


def _substance(document: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(document)
    tracking = _tracking(stripped)
    for field in _VOLATILE_TRACKING_FIELDS:
        tracking.pop(field, None)
    return stripped


def _vulnerability_part(key: str):
    def part(document: dict[str, Any]) -> list[Any]:
        vulnerabilities = document.get("vulnerabilities")
        return [mapping(item).get(key) for item in vulnerabilities] if isinstance(vulnerabilities, list) else []

    return part


_SECTIONS = (
    ("title", lambda document: mapping(document.get("document")).get("title")),
    ("TLP label", lambda document: mapping(document.get("document")).get("distribution")),
    ("products", lambda document: document.get("product_tree")),
    ("product status", _vulnerability_part("product_status")),
    ("remediations", _vulnerability_part("remediations")),
    ("scores", _vulnerability_part("scores")),
    ("impact", _vulnerability_part("threats")),
    ("notes", _vulnerability_part("notes")),
    ("CWE", _vulnerability_part("cwe")),
    ("flags", _vulnerability_part("flags")),
)


def _serialize(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _timestamp(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@cache
def _provider_validator() -> Validator:
    text = resources.files("irp.csaf").joinpath("schemas", "provider_json_schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    schemas = registry().with_resource(PROVIDER_SCHEMA_URL, DRAFT202012.create_resource(schema))
    return Draft202012Validator(schema, registry=schemas, format_checker=Draft202012Validator.FORMAT_CHECKER)
