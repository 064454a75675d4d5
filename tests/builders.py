"""Small inputs the tests write themselves: CVE records and CycloneDX SBOMs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CVSS_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

# A policy whose triage deadline and ladder run out within a minute of real time.
SHORT_LADDER_POLICY = {
    "version": "short-ladder",
    "triage_deadline": "PT20S",
    "escalation": [
        {"name": "owner", "notify": ["owner"]},
        {"name": "team lead", "notify": ["team_lead"], "after": "PT10S"},
        {"name": "PSIRT manager", "notify": ["psirt_manager"], "after": "PT10S"},
    ],
    "recipients": {
        "owner": ["queue@example.org"],
        "team_lead": ["lead@example.org"],
        "psirt_lead": ["psirt-lead@example.org"],
        "psirt_manager": ["manager@example.org"],
    },
}


def cve_record(
    cve_id: str = "CVE-2026-10001",
    *,
    package: str = "widget",
    fixed: str = "2.4.1",
    state: str = "PUBLISHED",
    description: str = "A heap overflow in widget's parser allows remote code execution.",
) -> dict[str, Any]:
    """Build a CVE JSON 5.1 record: `package` below `fixed` is affected (semver)."""
    if state == "REJECTED":
        return {
            "dataType": "CVE_RECORD",
            "dataVersion": "5.1",
            "cveMetadata": {"cveId": cve_id, "assignerOrgId": "00000000-0000-4000-8000-000000000000", "state": "REJECTED"},
            "containers": {
                "cna": {
                    "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
                    "rejectedReasons": [{"lang": "en", "value": "This candidate was withdrawn by its CNA."}],
                }
            },
        }
    return {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": cve_id,
            "assignerOrgId": "00000000-0000-4000-8000-000000000000",
            "state": state,
            "datePublished": "2026-11-30T10:00:00.000Z",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"orgId": "00000000-0000-4000-8000-000000000000"},
                "title": f"Heap overflow in {package}",
                "descriptions": [{"lang": "en", "value": description}],
                "affected": [
                    {
                        "vendor": "Example",
                        "product": package,
                        "packageName": package,
                        "defaultStatus": "unaffected",
                        "versions": [
                            {"version": "0", "lessThan": fixed, "status": "affected", "versionType": "semver"}
                        ],
                    }
                ],
                "metrics": [{"cvssV3_1": {"version": "3.1", "vectorString": CVSS_VECTOR, "baseScore": 9.8, "baseSeverity": "CRITICAL"}}],
                "problemTypes": [{"descriptions": [{"lang": "en", "cweId": "CWE-122", "description": "CWE-122", "type": "CWE"}]}],
                "references": [{"url": "https://example.org/advisories/widget"}],
            }
        },
    }


def cyclonedx_sbom(components: list[tuple[str, str]]) -> dict[str, Any]:
    """Build a CycloneDX 1.5 JSON SBOM of (name, version) npm components."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": name, "version": version, "purl": f"pkg:npm/{name}@{version}"}
            for name, version in components
        ],
    }


def write_json(path: Path, document: dict[str, Any]) -> Path:
    """Write a JSON document and return its path."""
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path
