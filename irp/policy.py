"""Load and check the policy file."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from models.policy import Policy

MAX_POLICY_BYTES = 1024 * 1024


class InvalidPolicy(ValueError):
    """A policy file that cannot be used, with every problem found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: invalid policy: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def load_policy(path: Path | None) -> Policy:
    """Read a YAML policy file, or return the built-in defaults when no file is given."""
    if path is None:
        return Policy()
    source = str(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise InvalidPolicy(source, [f"the file is larger than {MAX_POLICY_BYTES} bytes"])
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidPolicy(source, [f"cannot read the file: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise InvalidPolicy(source, ["the file is not UTF-8 text"]) from None
    except yaml.YAMLError as error:
        raise InvalidPolicy(source, [f"not valid YAML: {error}"]) from None
    except ValueError as error:
        # PyYAML builds unquoted dates itself and raises ValueError for impossible ones (2026-02-30).
        raise InvalidPolicy(source, [f"invalid date: {error}; write dates as YYYY-MM-DD"]) from None
    if not isinstance(document, dict):
        raise InvalidPolicy(source, ["expected a mapping of policy keys at the top level"])
    return parse_policy(document, source)


def parse_policy(document: dict, source: str = "policy") -> Policy:
    """Validate a policy mapping, naming each bad key, its value and what is expected."""
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        raise InvalidPolicy(source, [describe(detail) for detail in error.errors(include_url=False)]) from None


def describe(detail: dict) -> str:
    """Render one validation error as `key: value: expected`."""
    key = ".".join(str(part) for part in detail["loc"]) or "policy"
    message = detail["msg"].removeprefix("Value error, ")
    if detail["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    if detail["type"] == "missing":
        return f"{key}: missing"
    value = detail.get("input")
    if isinstance(value, dict | list):
        return f"{key}: {message}"
    return f"{key}: {value!r}: {message}"
