"""Parse CVE JSON 5 records (the cvelistV5 format) into a `Report`."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from models.records import (
    AffectedProduct,
    AffectStatus,
    CvssMetric,
    RecordState,
    Report,
    VersionChange,
    VersionRange,
)

MAX_RECORD_BYTES = 5 * 1024 * 1024
"""Largest record accepted. The real records under test are at most 37 kB, so this leaves wide room."""

CVE_ID_PATTERN = re.compile(r"CVE-\d{4}-\d{4,19}")
CWE_ID_PATTERN = re.compile(r"CWE-\d+")
GHSA_ID_PATTERN = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}")

CVSS_KEYS = {
    "cvssV4_0": "4.0",
    "cvssV3_1": "3.1",
    "cvssV3_0": "3.0",
    "cvssV2_0": "2.0",
}

RECORD_STATUSES = {
    "affected": AffectStatus.affected,
    "unaffected": AffectStatus.not_affected,
    "unknown": AffectStatus.unknown,
}


class InvalidReport(ValueError):
    """A report file that cannot be read as a record, with the problem named."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class _Problem(Exception):
    """A problem found inside the record, before the file name is attached."""


def parse_cve5(data: bytes | str, file: str) -> Report:
    """Parse one CVE JSON 5.x record; raise `InvalidReport` naming the problem."""
    try:
        record = _load_object(data)
        return _build_report(record)
    except _Problem as problem:
        raise InvalidReport(file, str(problem)) from None


def _load_object(data: bytes | str) -> dict[str, Any]:
    """Decode and parse the raw input into a JSON object, within the size limit."""
    if not isinstance(data, (bytes, str)):
        raise _Problem(f"expected bytes or text, found {type(data).__name__}")

    # Text never has fewer UTF-8 bytes than characters, so a long text is rejected unencoded.
    if isinstance(data, str) and len(data) <= MAX_RECORD_BYTES:
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > MAX_RECORD_BYTES:
        raise _Problem(
            f"record is at least {len(data)} bytes, larger than the {MAX_RECORD_BYTES} byte"
            " limit for one CVE record. Check that the file contains a single record"
        )

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _Problem(f"not valid UTF-8 (invalid byte at offset {error.start})") from None

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _Problem(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except (ValueError, RecursionError) as error:
        raise _Problem(f"not valid JSON: {error}") from None

    if not isinstance(value, dict):
        raise _Problem(f"expected a JSON object, found {_json_type(value)}")
    return value


def _build_report(record: dict[str, Any]) -> Report:
    """Build a `Report` from a decoded CVE record."""
    _check_data_type(record)

    metadata = _required(record, "cveMetadata", dict, "")
    cve_id = _required(metadata, "cveId", str, "cveMetadata")
    if not CVE_ID_PATTERN.fullmatch(cve_id):
        raise _Problem(f"cveMetadata.cveId {cve_id!r} is not a CVE id of the form CVE-YYYY-NNNN")
    state = _record_state(metadata)
    published_at = _timestamp(metadata, "datePublished", "cveMetadata")

    containers = _required(record, "containers", dict, "")
    cna = _required(containers, "cna", dict, "containers")
    adps = _optional(containers, "adp", list, "containers", [])
    labelled = [("cna", cna, "containers.cna")]
    for index, adp in enumerate(adps):
        path = f"containers.adp[{index}]"
        if not isinstance(adp, dict):
            raise _Problem(f"{path} must be an object, found {_json_type(adp)}")
        labelled.append((_adp_label(adp, path), adp, path))

    if state is RecordState.rejected:
        return _rejected_report(cve_id, metadata, cna, published_at)

    return Report(
        id=cve_id,
        format="cve5",
        state=state,
        title=_text(_optional(cna, "title", str, "containers.cna", None)),
        description=_description(cna, "descriptions", "containers.cna"),
        published_at=published_at,
        affected=_affected(labelled),
        metrics=_metrics(labelled),
        cwes=_cwes(labelled),
        references=_references(labelled),
        aliases=_aliases(cna),
        known_exploited=_known_exploited(labelled),
    )


def _check_data_type(record: dict[str, Any]) -> None:
    """Check that the object declares itself a CVE record of format version 5."""
    data_type = _required(record, "dataType", str, "")
    if data_type != "CVE_RECORD":
        raise _Problem(f"dataType is {data_type!r}, expected 'CVE_RECORD'")

    data_version = _optional(record, "dataVersion", str, "", None)
    if data_version is not None and not data_version.startswith("5."):
        raise _Problem(f"dataVersion {data_version!r} is not supported, expected 5.x")


def _record_state(metadata: dict[str, Any]) -> RecordState:
    """Read the publication state from `cveMetadata.state`."""
    state = _required(metadata, "state", str, "cveMetadata")
    try:
        return RecordState(state)
    except ValueError:
        raise _Problem(
            f"cveMetadata.state {state!r} is unknown, expected PUBLISHED or REJECTED"
        ) from None


def _rejected_report(
    cve_id: str, metadata: dict[str, Any], cna: dict[str, Any], published_at: datetime | None
) -> Report:
    """Build the report of a REJECTED record: its reason and replacement ids."""
    replaced_by: list[str] = []
    for source, path in ((metadata, "cveMetadata"), (cna, "containers.cna")):
        for index, value in enumerate(_optional(source, "replacedBy", list, path, [])):
            if not isinstance(value, str) or not CVE_ID_PATTERN.fullmatch(value):
                raise _Problem(f"{path}.replacedBy[{index}] is not a CVE id: {value!r}")
            if value not in replaced_by:
                replaced_by.append(value)

    return Report(
        id=cve_id,
        format="cve5",
        state=RecordState.rejected,
        description=_description(cna, "rejectedReasons", "containers.cna"),
        published_at=published_at,
        replaced_by=replaced_by,
    )


def _adp_label(adp: dict[str, Any], path: str) -> str:
    """Return the ADP's short name, or `adp` when its provider has none."""
    provider = _optional(adp, "providerMetadata", dict, path, {})
    short_name = _optional(provider, "shortName", str, f"{path}.providerMetadata", None)
    return short_name or "adp"


def _description(container: dict[str, Any], key: str, path: str) -> str | None:
    """Pick the English text of a descriptions list, else the first one."""
    descriptions = _optional(container, key, list, path, [])
    values: list[tuple[str, str]] = []
    for index, item in enumerate(descriptions):
        item_path = f"{path}.{key}[{index}]"
        if not isinstance(item, dict):
            raise _Problem(f"{item_path} must be an object, found {_json_type(item)}")
        language = _optional(item, "lang", str, item_path, "")
        value = _required(item, "value", str, item_path)
        values.append((language.lower(), value))

    if not values:
        return None
    for language, value in values:
        if language == "en":
            return _text(value)
    for language, value in values:
        if language.startswith("en"):
            return _text(value)
    return _text(values[0][1])


def _affected(labelled: list[tuple[str, dict[str, Any], str]]) -> list[AffectedProduct]:
    """Collect the affected entries of the CNA and every ADP, without exact repeats."""
    products: list[AffectedProduct] = []
    for label, container, path in labelled:
        entries = _optional(container, "affected", list, path, [])
        for index, entry in enumerate(entries):
            product = _affected_product(entry, label, f"{path}.affected[{index}]")
            if product not in products:
                products.append(product)
    return products


def _affected_product(entry: Any, label: str, path: str) -> AffectedProduct:
    """Build one `AffectedProduct` from an `affected` entry."""
    if not isinstance(entry, dict):
        raise _Problem(f"{path} must be an object, found {_json_type(entry)}")

    cpes = _optional(entry, "cpes", list, path, [])
    for index, cpe in enumerate(cpes):
        if not isinstance(cpe, str):
            raise _Problem(f"{path}.cpes[{index}] must be a string, found {_json_type(cpe)}")

    versions = _optional(entry, "versions", list, path, [])
    return AffectedProduct(
        vendor=_optional(entry, "vendor", str, path, None),
        product=_optional(entry, "product", str, path, None),
        package_name=_optional(entry, "packageName", str, path, None),
        collection_url=_optional(entry, "collectionURL", str, path, None),
        purl=_optional(entry, "packageURL", str, path, None),
        cpes=cpes,
        default_status=_status(entry, "defaultStatus", path, AffectStatus.unknown),
        versions=[
            _version_range(item, f"{path}.versions[{index}]") for index, item in enumerate(versions)
        ],
        container=label,
    )


def _version_range(item: Any, path: str) -> VersionRange:
    """Build one `VersionRange` from an entry of a `versions` list."""
    if not isinstance(item, dict):
        raise _Problem(f"{path} must be an object, found {_json_type(item)}")

    changes = []
    for index, change in enumerate(_optional(item, "changes", list, path, [])):
        change_path = f"{path}.changes[{index}]"
        if not isinstance(change, dict):
            raise _Problem(f"{change_path} must be an object, found {_json_type(change)}")
        changes.append(
            VersionChange(
                at=_required(change, "at", str, change_path),
                status=_status(change, "status", change_path, None),
            )
        )

    return VersionRange(
        version=_required(item, "version", str, path),
        status=_status(item, "status", path, None),
        version_type=_optional(item, "versionType", str, path, None),
        less_than=_optional(item, "lessThan", str, path, None),
        less_than_or_equal=_optional(item, "lessThanOrEqual", str, path, None),
        changes=changes,
    )


def _metrics(labelled: list[tuple[str, dict[str, Any], str]]) -> list[CvssMetric]:
    """Collect the CVSS vectors of every container."""
    metrics: list[CvssMetric] = []
    for label, container, path in labelled:
        for index, metric in enumerate(_optional(container, "metrics", list, path, [])):
            metric_path = f"{path}.metrics[{index}]"
            if not isinstance(metric, dict):
                raise _Problem(f"{metric_path} must be an object, found {_json_type(metric)}")
            for key, version in CVSS_KEYS.items():
                if key in metric:
                    metrics.append(_cvss(metric, key, version, label, metric_path))
    return metrics


def _cvss(metric: dict[str, Any], key: str, version: str, label: str, path: str) -> CvssMetric:
    """Build one `CvssMetric` from a `cvssVx_y` object."""
    cvss = _required(metric, key, dict, path)
    cvss_path = f"{path}.{key}"
    score = _optional(cvss, "baseScore", (int, float), cvss_path, None)
    if isinstance(score, bool):
        raise _Problem(f"{cvss_path}.baseScore must be a number, found boolean")
    return CvssMetric(
        version=version,
        vector=_required(cvss, "vectorString", str, cvss_path),
        base_score=score,
        base_severity=_optional(cvss, "baseSeverity", str, cvss_path, None),
        container=label,
    )


def _known_exploited(labelled: list[tuple[str, dict[str, Any], str]]) -> bool:
    """Tell whether a container lists the flaw in KEV or rates SSVC exploitation active."""
    for _, container, path in labelled:
        for metric in _optional(container, "metrics", list, path, []):
            other = metric.get("other") if isinstance(metric, dict) else None
            if not isinstance(other, dict):
                continue
            if other.get("type") == "kev":
                return True
            if other.get("type") == "ssvc" and _ssvc_exploitation(other.get("content")) == "active":
                return True
    return False


def _ssvc_exploitation(content: Any) -> str | None:
    """Return the SSVC `Exploitation` option of an `other` metric's content."""
    if not isinstance(content, dict) or not isinstance(content.get("options"), list):
        return None
    for option in content["options"]:
        if isinstance(option, dict) and isinstance(option.get("Exploitation"), str):
            return option["Exploitation"].lower()
    return None


def _cwes(labelled: list[tuple[str, dict[str, Any], str]]) -> list[str]:
    """Collect the CWE ids of every container's problem types."""
    cwes: list[str] = []
    for _, container, path in labelled:
        for index, problem_type in enumerate(_optional(container, "problemTypes", list, path, [])):
            type_path = f"{path}.problemTypes[{index}]"
            if not isinstance(problem_type, dict):
                raise _Problem(f"{type_path} must be an object, found {_json_type(problem_type)}")
            for description in _optional(problem_type, "descriptions", list, type_path, []):
                cwe = _cwe_id(description)
                if cwe and cwe not in cwes:
                    cwes.append(cwe)
    return cwes


def _cwe_id(description: Any) -> str | None:
    """Return the CWE id of one problem type description, from `cweId` or its text."""
    if not isinstance(description, dict):
        return None
    for key in ("cweId", "description"):
        value = description.get(key)
        if isinstance(value, str):
            match = CWE_ID_PATTERN.match(value.strip())
            if match:
                return match.group(0)
    return None


def _references(labelled: list[tuple[str, dict[str, Any], str]]) -> list[str]:
    """Collect the reference URLs of every container, without repeats."""
    urls: list[str] = []
    for _, container, path in labelled:
        for index, reference in enumerate(_optional(container, "references", list, path, [])):
            reference_path = f"{path}.references[{index}]"
            if not isinstance(reference, dict):
                raise _Problem(f"{reference_path} must be an object, found {_json_type(reference)}")
            url = _required(reference, "url", str, reference_path)
            if url not in urls:
                urls.append(url)
    return urls


def _aliases(cna: dict[str, Any]) -> list[str]:
    """Return the GitHub advisory id that GitHub's CNA puts in `source.advisory`."""
    source = cna.get("source")
    advisory = source.get("advisory") if isinstance(source, dict) else None
    if isinstance(advisory, str) and GHSA_ID_PATTERN.fullmatch(advisory):
        return [advisory]
    return []


def _timestamp(container: dict[str, Any], key: str, path: str) -> datetime | None:
    """Parse an ISO 8601 timestamp field, reading one without a zone as UTC."""
    value = _optional(container, key, str, path, None)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Problem(f"{path}.{key} {value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def _status(
    item: dict[str, Any], key: str, path: str, default: AffectStatus | None
) -> AffectStatus:
    """Read a CVE status (`affected`, `unaffected`, `unknown`) as an `AffectStatus`."""
    if default is None:
        value = _required(item, key, str, path)
    else:
        value = _optional(item, key, str, path, None)
        if value is None:
            return default
    try:
        return RECORD_STATUSES[value]
    except KeyError:
        raise _Problem(
            f"{_join(path, key)} {value!r} is invalid, expected affected, unaffected or unknown"
        ) from None


def _required(item: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> Any:
    """Return a field that must be present, checking its JSON type."""
    if key not in item:
        raise _Problem(f"missing {_join(path, key)}")
    return _checked(item[key], kind, _join(path, key))


def _optional(
    item: dict[str, Any], key: str, kind: type | tuple[type, ...], path: str, default: Any
) -> Any:
    """Return a field that may be absent or null, checking its JSON type."""
    value = item.get(key)
    if value is None:
        return default
    return _checked(value, kind, _join(path, key))


def _checked(value: Any, kind: type | tuple[type, ...], path: str) -> Any:
    """Return the value when it has the expected type, else raise naming both types."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(dict.fromkeys(_TYPE_NAMES[item] for item in kinds))
        raise _Problem(f"{path} must be {expected}, found {_json_type(value)}")
    return value


_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}


def _json_type(value: Any) -> str:
    """Name the JSON type of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    """Join a dotted field path and a key."""
    return f"{path}.{key}" if path else key


def _text(value: str | None) -> str | None:
    """Normalize Windows line endings in record text."""
    return value.replace("\r\n", "\n") if value is not None else None
