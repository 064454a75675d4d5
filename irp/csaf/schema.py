"""The official CSAF 2.0 and FIRST CVSS JSON schemas, loaded from the package without network access."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7, DRAFT202012

CSAF_SCHEMA_URL = "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json"
CVSS_V2_URL = "https://www.first.org/cvss/cvss-v2.0.json"
CVSS_V30_URL = "https://www.first.org/cvss/cvss-v3.0.json"
CVSS_V31_URL = "https://www.first.org/cvss/cvss-v3.1.json"

# The CSAF schema refers to the CVSS schemas by these URLs. The CVSS files
# name themselves with a dated query string, so both names must resolve locally.
_SCHEMA_FILES = {
    CSAF_SCHEMA_URL: ("csaf_json_schema.json", DRAFT202012),
    CVSS_V2_URL: ("first-cvss-v2.0.json", DRAFT4),
    CVSS_V30_URL: ("first-cvss-v3.0.json", DRAFT4),
    CVSS_V31_URL: ("first-cvss-v3.1.json", DRAFT7),
}


def _load(file_name: str) -> dict[str, Any]:
    text = resources.files("irp.csaf").joinpath("schemas", file_name).read_text(encoding="utf-8")
    return json.loads(text)


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Return every shipped schema by the URL the CSAF schema refers to it with."""
    return {url: _load(file_name) for url, (file_name, _) in _SCHEMA_FILES.items()}


@cache
def registry() -> Registry:
    """Build a registry holding every shipped schema, so no `$ref` is fetched from the network."""
    resources_by_url: list[tuple[str, Resource]] = []
    for url, (_, specification) in _SCHEMA_FILES.items():
        resource = specification.create_resource(schemas()[url])
        resources_by_url.append((url, resource))
        if resource.id() and resource.id() != url:
            resources_by_url.append((resource.id(), resource))
    return Registry().with_resources(resources_by_url).crawl()


@cache
def csaf_validator() -> Validator:
    """Return a Draft 2020-12 validator for whole CSAF 2.0 documents."""
    schema = schemas()[CSAF_SCHEMA_URL]
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def cvss_validator(url: str) -> Validator:
    """Return a validator for one FIRST CVSS schema, in the draft that schema declares."""
    schema = schemas()[url]
    validator_class = validator_for(schema)
    return validator_class(schema, registry=registry(), format_checker=validator_class.FORMAT_CHECKER)


def iter_schema_errors(document: Any) -> Iterator[ValidationError]:
    """Yield every error of the document against the CSAF 2.0 schema."""
    yield from csaf_validator().iter_errors(document)
