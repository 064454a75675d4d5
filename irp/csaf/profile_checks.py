"""Mandatory CSAF 2.0 tests of the document category and of the profile it selects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from irp.csaf.failure import Failure, mapping, objects, pointer, strings, text, vulnerabilities
from irp.csaf.product_checks import covered_products, product_groups

BASE = "csaf_base"
INCIDENT_RESPONSE = "csaf_security_incident_response"
INFORMATIONAL = "csaf_informational_advisory"
SECURITY_ADVISORY = "csaf_security_advisory"
VEX = "csaf_vex"
PROFILE_CATEGORIES = frozenset({BASE, INCIDENT_RESPONSE, INFORMATIONAL, SECURITY_ADVISORY, VEX})

# Profile names and values other than CSAF Base, without dashes, whitespace
# and underscores, lower case: a base document may not use them as category.
_PROHIBITED_CATEGORIES = frozenset(
    {
        "securityincidentresponse",
        "informationaladvisory",
        "securityadvisory",
        "vex",
        "csafsecurityincidentresponse",
        "csafinformationaladvisory",
        "csafsecurityadvisory",
        "csafvex",
    }
)

_SUMMARY_NOTE_CATEGORIES = frozenset({"description", "details", "general", "summary"})
VEX_STATUS_NAMES = ("fixed", "known_affected", "known_not_affected", "under_investigation")


def category(document: dict[str, Any]) -> str | None:
    """Return `/document/category` if it is a string."""
    return text(mapping(document.get("document")).get("category"))


def check_prohibited_category(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.26: a CSAF Base category is neither another profile's name or value nor starts with `csaf_`."""
    value = category(document)
    if value is None or value in PROFILE_CATEGORIES:
        return
    normalized = re.sub(r"[\s_-]", "", value).lower()
    path = pointer("document", "category")
    if normalized in _PROHIBITED_CATEGORIES:
        yield Failure("6.1.26", path, f"category {value!r} is the name of a CSAF profile; use that profile's value")
    elif value.lower().startswith("csaf_"):
        yield Failure("6.1.26", path, f"category {value!r} uses the reserved prefix 'csaf_'")


def check_document_notes(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.1: informational advisories and incident responses have a describing note."""
    if category(document) not in (INFORMATIONAL, INCIDENT_RESPONSE):
        return
    notes = mapping(document.get("document")).get("notes")
    if not any(note.get("category") in _SUMMARY_NOTE_CATEGORIES for _, note in objects(notes)):
        yield Failure("6.1.27.1", pointer("document", "notes"),
                      "no document note has the category description, details, general or summary")


def check_document_references(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.2: informational advisories and incident responses refer to an external source."""
    if category(document) not in (INFORMATIONAL, INCIDENT_RESPONSE):
        return
    references = mapping(document.get("document")).get("references")
    # A reference without a category is external: that is the schema's default.
    if not any(reference.get("category", "external") == "external" for _, reference in objects(references)):
        yield Failure("6.1.27.2", pointer("document", "references"), "no document reference has the category external")


def check_informational_without_vulnerabilities(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.3: an informational advisory lists no vulnerabilities."""
    if category(document) == INFORMATIONAL and "vulnerabilities" in document:
        yield Failure("6.1.27.3", pointer("vulnerabilities"), "an informational advisory must not have vulnerabilities")


def check_product_tree(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.4: security advisories and VEX documents have a product tree."""
    if category(document) in (SECURITY_ADVISORY, VEX) and "product_tree" not in document:
        yield Failure("6.1.27.4", pointer("product_tree"), f"a {category(document)} document needs a product_tree")


def check_vulnerability_notes(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.5: in security advisories and VEX documents every vulnerability has notes."""
    if category(document) not in (SECURITY_ADVISORY, VEX):
        return
    for index, vulnerability in vulnerabilities(document):
        if "notes" not in vulnerability:
            yield Failure("6.1.27.5", pointer("vulnerabilities", index, "notes"), "the vulnerability has no notes")


def check_product_status(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.6: in security advisories every vulnerability has a product status."""
    if category(document) != SECURITY_ADVISORY:
        return
    for index, vulnerability in vulnerabilities(document):
        if "product_status" not in vulnerability:
            yield Failure("6.1.27.6", pointer("vulnerabilities", index, "product_status"),
                          "the vulnerability has no product_status")


def check_vex_product_status(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.7: in VEX documents every vulnerability has a fixed, affected, not affected or under investigation list."""
    if category(document) != VEX:
        return
    for index, vulnerability in vulnerabilities(document):
        status = mapping(vulnerability.get("product_status"))
        if not any(name in status for name in VEX_STATUS_NAMES):
            yield Failure("6.1.27.7", pointer("vulnerabilities", index, "product_status"),
                          "none of fixed, known_affected, known_not_affected or under_investigation is present")


def check_vulnerability_id(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.8: in VEX documents every vulnerability has a CVE or other ids."""
    if category(document) != VEX:
        return
    for index, vulnerability in vulnerabilities(document):
        if "cve" not in vulnerability and "ids" not in vulnerability:
            yield Failure("6.1.27.8", pointer("vulnerabilities", index), "the vulnerability has neither cve nor ids")


def check_impact_statements(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.9: in VEX documents every known not affected product has a flag or an impact threat."""
    if category(document) != VEX:
        return
    groups = product_groups(document)
    for index, vulnerability in vulnerabilities(document):
        stated: set[str] = set()
        for _, flag in objects(vulnerability.get("flags")):
            stated |= covered_products(flag, groups)
        for _, threat in objects(vulnerability.get("threats")):
            if threat.get("category") == "impact":
                stated |= covered_products(threat, groups)
        status = mapping(vulnerability.get("product_status"))
        for position, product_id in strings(status.get("known_not_affected")):
            if product_id not in stated:
                yield Failure("6.1.27.9", pointer("vulnerabilities", index, "product_status", "known_not_affected", position),
                              f"product {product_id!r} is known not affected but has no flag or impact threat")


def check_action_statements(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.10: in VEX documents every known affected product has a remediation."""
    if category(document) != VEX:
        return
    groups = product_groups(document)
    for index, vulnerability in vulnerabilities(document):
        remediated: set[str] = set()
        for _, remediation in objects(vulnerability.get("remediations")):
            remediated |= covered_products(remediation, groups)
        status = mapping(vulnerability.get("product_status"))
        for position, product_id in strings(status.get("known_affected")):
            if product_id not in remediated:
                yield Failure("6.1.27.10", pointer("vulnerabilities", index, "product_status", "known_affected", position),
                              f"product {product_id!r} is known affected but has no remediation")


def check_vulnerabilities_present(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.27.11: security advisories and VEX documents list vulnerabilities."""
    if category(document) in (SECURITY_ADVISORY, VEX) and "vulnerabilities" not in document:
        yield Failure("6.1.27.11", pointer("vulnerabilities"), f"a {category(document)} document needs vulnerabilities")
