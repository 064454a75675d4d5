"""Mandatory CSAF 2.0 tests of CVSS objects: schema, computed scores, and agreement with the vector."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cvss import CVSS2, CVSS3
from cvss.exceptions import CVSSError

from irp.csaf.failure import Failure, mapping, objects, pointer, text, vulnerabilities
from irp.csaf.schema import CVSS_V2_URL, CVSS_V30_URL, CVSS_V31_URL, cvss_validator

_LOW_HIGH = {"L": "LOW", "H": "HIGH"}
_NONE_LOW_HIGH = {"N": "NONE", "L": "LOW", "H": "HIGH"}
_REQUIREMENT_V3 = {"X": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}
_ATTACK_VECTOR = {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}
_PRIVILEGES = {"N": "NONE", "L": "LOW", "H": "HIGH"}
_USER_INTERACTION = {"N": "NONE", "R": "REQUIRED"}
_SCOPE = {"U": "UNCHANGED", "C": "CHANGED"}

# CVSS v3 JSON property -> (vector metric, value names). Temporal and
# environmental metrics left out of a vector mean X (not defined).
CVSS_V3_PROPERTIES: dict[str, tuple[str, dict[str, str]]] = {
    "attackVector": ("AV", _ATTACK_VECTOR),
    "attackComplexity": ("AC", _LOW_HIGH),
    "privilegesRequired": ("PR", _PRIVILEGES),
    "userInteraction": ("UI", _USER_INTERACTION),
    "scope": ("S", _SCOPE),
    "confidentialityImpact": ("C", _NONE_LOW_HIGH),
    "integrityImpact": ("I", _NONE_LOW_HIGH),
    "availabilityImpact": ("A", _NONE_LOW_HIGH),
    "exploitCodeMaturity": ("E", {"X": "NOT_DEFINED", "U": "UNPROVEN", "P": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH"}),
    "remediationLevel": ("RL", {"X": "NOT_DEFINED", "O": "OFFICIAL_FIX", "T": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE"}),
    "reportConfidence": ("RC", {"X": "NOT_DEFINED", "U": "UNKNOWN", "R": "REASONABLE", "C": "CONFIRMED"}),
    "confidentialityRequirement": ("CR", _REQUIREMENT_V3),
    "integrityRequirement": ("IR", _REQUIREMENT_V3),
    "availabilityRequirement": ("AR", _REQUIREMENT_V3),
}

# Modified base metrics: X means "as the base metric", so a property that
# repeats the base value is as consistent as NOT_DEFINED.
CVSS_V3_MODIFIED = {
    "modifiedAttackVector": ("MAV", "attackVector"),
    "modifiedAttackComplexity": ("MAC", "attackComplexity"),
    "modifiedPrivilegesRequired": ("MPR", "privilegesRequired"),
    "modifiedUserInteraction": ("MUI", "userInteraction"),
    "modifiedScope": ("MS", "scope"),
    "modifiedConfidentialityImpact": ("MC", "confidentialityImpact"),
    "modifiedIntegrityImpact": ("MI", "integrityImpact"),
    "modifiedAvailabilityImpact": ("MA", "availabilityImpact"),
}

_CIA_V2 = {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}
_REQUIREMENT_V2 = {"ND": "NOT_DEFINED", "L": "LOW", "M": "MEDIUM", "H": "HIGH"}

CVSS_V2_PROPERTIES: dict[str, tuple[str, dict[str, str]]] = {
    "accessVector": ("AV", {"L": "LOCAL", "A": "ADJACENT_NETWORK", "N": "NETWORK"}),
    "accessComplexity": ("AC", {"H": "HIGH", "M": "MEDIUM", "L": "LOW"}),
    "authentication": ("Au", {"M": "MULTIPLE", "S": "SINGLE", "N": "NONE"}),
    "confidentialityImpact": ("C", _CIA_V2),
    "integrityImpact": ("I", _CIA_V2),
    "availabilityImpact": ("A", _CIA_V2),
    "exploitability": ("E", {"U": "UNPROVEN", "POC": "PROOF_OF_CONCEPT", "F": "FUNCTIONAL", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "remediationLevel": ("RL", {"OF": "OFFICIAL_FIX", "TF": "TEMPORARY_FIX", "W": "WORKAROUND", "U": "UNAVAILABLE", "ND": "NOT_DEFINED"}),
    "reportConfidence": ("RC", {"UC": "UNCONFIRMED", "UR": "UNCORROBORATED", "C": "CONFIRMED", "ND": "NOT_DEFINED"}),
    "collateralDamagePotential": ("CDP", {"N": "NONE", "L": "LOW", "LM": "LOW_MEDIUM", "MH": "MEDIUM_HIGH", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "targetDistribution": ("TD", {"N": "NONE", "L": "LOW", "M": "MEDIUM", "H": "HIGH", "ND": "NOT_DEFINED"}),
    "confidentialityRequirement": ("CR", _REQUIREMENT_V2),
    "integrityRequirement": ("IR", _REQUIREMENT_V2),
    "availabilityRequirement": ("AR", _REQUIREMENT_V2),
}

_V3_SCHEMAS = {"3.0": CVSS_V30_URL, "3.1": CVSS_V31_URL}


def cvss_objects(document: dict[str, Any]) -> Iterator[tuple[str, Any, str]]:
    """Yield every `cvss_v2` and `cvss_v3` value with its key and path."""
    for index, vulnerability in vulnerabilities(document):
        for score_index, score in objects(vulnerability.get("scores")):
            for key in ("cvss_v2", "cvss_v3"):
                if key in score:
                    yield key, score[key], pointer("vulnerabilities", index, "scores", score_index, key)


def _v3_version(cvss: dict[str, Any]) -> str | None:
    version = text(cvss.get("version"))
    if version in _V3_SCHEMAS:
        return version
    vector = text(cvss.get("vectorString")) or ""
    return next((known for known in _V3_SCHEMAS if vector.startswith(f"CVSS:{known}/")), None)


def check_cvss_schema(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.8: every CVSS object is valid against its FIRST JSON schema."""
    for key, cvss, path in cvss_objects(document):
        if key == "cvss_v2":
            url = CVSS_V2_URL
        else:
            version = _v3_version(mapping(cvss))
            if version is None:
                yield Failure("6.1.8", path, "cvss_v3 has neither version 3.0 nor 3.1")
                continue
            url = _V3_SCHEMAS[version]
        for error in cvss_validator(url).iter_errors(cvss):
            yield Failure("6.1.8", pointer(*path.strip("/").split("/"), *error.absolute_path), error.message)


def _computed(key: str, cvss: dict[str, Any]) -> dict[str, Any] | None:
    """Return the scores and severities the `cvss` library computes from the vector, or None if it cannot."""
    vector = text(cvss.get("vectorString"))
    if vector is None:
        return None
    try:
        if key == "cvss_v2":
            base, temporal, environmental = CVSS2(vector).scores()
            return {"baseScore": base, "temporalScore": temporal, "environmentalScore": environmental}
        parsed = CVSS3(vector)
    except (CVSSError, ValueError, KeyError):
        return None

    base, temporal, environmental = parsed.scores()
    severities = [severity.upper() for severity in parsed.severities()]
    return {
        "baseScore": base,
        "baseSeverity": severities[0],
        "temporalScore": temporal,
        "temporalSeverity": severities[1],
        "environmentalScore": environmental,
        "environmentalSeverity": severities[2],
    }


def check_cvss_computation(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.9: every score and severity given matches the one computed from the vector."""
    for key, cvss, path in cvss_objects(document):
        computed = _computed(key, mapping(cvss))
        if computed is None:
            continue
        for name, expected in computed.items():
            stated = cvss.get(name)
            if stated is None or expected is None:
                continue
            if isinstance(expected, float):
                wrong = not isinstance(stated, int | float) or abs(stated - expected) > 1e-9
            else:
                wrong = stated != expected
            if wrong:
                yield Failure("6.1.9", f"{path}/{name}", f"{name} is {stated!r} but the vector computes to {expected!r}")


def _vector_metrics(vector: str) -> dict[str, str]:
    parts = vector.strip("()").split("/")
    if parts and parts[0].startswith("CVSS:"):
        parts = parts[1:]
    return dict(part.split(":", 1) for part in parts if ":" in part)


def check_cvss_consistency(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.10: every CVSS property agrees with the metric of the same name in the vector."""
    for key, cvss, path in cvss_objects(document):
        cvss = mapping(cvss)
        vector = text(cvss.get("vectorString"))
        if vector is None:
            continue
        metrics = _vector_metrics(vector)
        properties = CVSS_V2_PROPERTIES if key == "cvss_v2" else CVSS_V3_PROPERTIES
        undefined = "ND" if key == "cvss_v2" else "X"
        for name, (metric, values) in properties.items():
            if name in cvss:
                expected = values.get(metrics.get(metric, undefined))
                if expected is not None and cvss[name] != expected:
                    yield _inconsistent(path, name, cvss[name], metric, metrics.get(metric))
        if key == "cvss_v3":
            yield from _check_modified_metrics(cvss, metrics, path)


def _check_modified_metrics(cvss: dict[str, Any], metrics: dict[str, str], path: str) -> Iterator[Failure]:
    for name, (metric, base_name) in CVSS_V3_MODIFIED.items():
        if name not in cvss:
            continue
        base_metric, values = CVSS_V3_PROPERTIES[base_name]
        value = metrics.get(metric, "X")
        if value == "X":
            allowed = {"NOT_DEFINED", values.get(metrics.get(base_metric, ""))}
        else:
            allowed = {values.get(value)}
        if cvss[name] not in allowed:
            yield _inconsistent(path, name, cvss[name], metric, metrics.get(metric))


def _inconsistent(path: str, name: str, stated: Any, metric: str, value: str | None) -> Failure:
    in_vector = f"{metric}:{value}" if value is not None else f"no {metric} metric"
    return Failure("6.1.10", f"{path}/{name}", f"{name} is {stated!r} but the vector has {in_vector}")
