"""Mandatory CSAF 2.0 tests of languages, CWE, CVE and involvement entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import langcodes
from cwe2.database import Database, InvalidCWEError

from irp.csaf.failure import Failure, mapping, objects, pointer, text, vulnerabilities
from irp.csaf.revision_checks import parse_date

CWE_ID = re.compile(r"^CWE-([1-9]\d{0,5})$")


@cache
def _cwe_database() -> Database:
    # NOTE: the catalogue is the CWE 4.x release that the cwe2 package ships.
    # A CWE added or renamed later is reported as unknown or misnamed.
    return Database()


@cache
def cwe_name(cwe_id: str) -> str | None:
    """Return the official name of a CWE id such as `CWE-79`, or None if the catalogue has no such entry."""
    match = CWE_ID.match(cwe_id)
    if match is None:
        return None
    try:
        return _cwe_database().get(int(match.group(1))).name
    except InvalidCWEError:
        return None


def check_cwe(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.11: every CWE exists and carries its official name."""
    for index, vulnerability in vulnerabilities(document):
        cwe = mapping(vulnerability.get("cwe"))
        cwe_id, name = text(cwe.get("id")), text(cwe.get("name"))
        if cwe_id is None or not CWE_ID.match(cwe_id):
            continue
        official = cwe_name(cwe_id)
        path = pointer("vulnerabilities", index, "cwe")
        if official is None:
            yield Failure("6.1.11", f"{path}/id", f"{cwe_id} is not in the CWE catalogue")
        elif name is not None and name != official:
            yield Failure("6.1.11", f"{path}/name", f"the name of {cwe_id} is {official!r}, not {name!r}")


def check_languages(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.12: every language tag is a valid BCP 47 tag of registered subtags."""
    meta = mapping(document.get("document"))
    for key in ("lang", "source_lang"):
        tag = text(meta.get(key))
        if tag is not None and not langcodes.tag_is_valid(tag):
            yield Failure("6.1.12", pointer("document", key), f"{tag!r} is not a valid language tag")


def check_translator(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.15: a document published by a translator names its source language."""
    meta = mapping(document.get("document"))
    if mapping(meta.get("publisher")).get("category") == "translator" and not text(meta.get("source_lang")):
        yield Failure("6.1.15", pointer("document", "source_lang"),
                      "the publisher is a translator but the document has no source_lang")


def check_multiple_cve(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.23: each CVE appears in one vulnerability item only."""
    seen: set[str] = set()
    for index, vulnerability in vulnerabilities(document):
        cve = text(vulnerability.get("cve"))
        if cve in seen:
            yield Failure("6.1.23", pointer("vulnerabilities", index, "cve"), f"{cve} is used by more than one vulnerability")
        elif cve is not None:
            seen.add(cve)


def check_multiple_involvements(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.24: no party has two involvement entries at the same date."""
    for index, vulnerability in vulnerabilities(document):
        seen: set[tuple[Any, Any]] = set()
        for position, involvement in objects(vulnerability.get("involvements")):
            date = parse_date(involvement.get("date")) or text(involvement.get("date"))
            key = (text(involvement.get("party")), date)
            if key in seen:
                yield Failure("6.1.24", pointer("vulnerabilities", index, "involvements", position),
                              f"party {key[0]!r} already has an involvement at {involvement.get('date')}")
            else:
                seen.add(key)


def check_translation(document: dict[str, Any]) -> Iterator[Failure]:
    """6.1.28: a translation's language differs from its source language."""
    meta = mapping(document.get("document"))
    lang, source = text(meta.get("lang")), text(meta.get("source_lang"))
    if lang is not None and source is not None and lang.lower() == source.lower():
        yield Failure("6.1.28", pointer("document", "source_lang"),
                      f"the document language and the source language are both {lang!r}")
