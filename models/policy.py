"""The policy file: deadlines, calendar, escalation ladder, embargo limits, recipients."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from models.incident import Impact

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DURATION_FORM = re.compile(r"^\s*(\d+)\s+(business days?|weeks?|days?|hours?|minutes?|seconds?)\s*$", re.IGNORECASE)
DURATION_EXPECTED = 'expected a duration such as "3 business days", "14 days" or "PT30S"'
TIMEDELTA = TypeAdapter(timedelta)


class Duration(BaseModel):
    """A span of time, either in business days or as a fixed length."""

    model_config = ConfigDict(frozen=True)

    business_days: int = 0
    length: timedelta = timedelta(0)

    def __str__(self) -> str:
        if self.business_days:
            return f"{self.business_days} business day{'s' if self.business_days != 1 else ''}"
        return _format_timedelta(self.length)


def parse_duration(value: Any) -> Any:
    """Read "N business days", "N days", "N hours", "N minutes" or an ISO 8601 duration."""
    if isinstance(value, Duration | dict):
        return value
    if not isinstance(value, str):
        raise ValueError(DURATION_EXPECTED)
    match = DURATION_FORM.match(value)
    if match:
        count, unit = int(match.group(1)), match.group(2).lower()
        if count <= 0:
            raise ValueError("expected a positive duration")
        if unit.startswith("business"):
            return Duration(business_days=count)
        unit_name = unit.rstrip("s") + "s"
        return Duration(length=timedelta(**{unit_name: count}))
    if value.strip().upper().startswith("P"):
        try:
            length = TIMEDELTA.validate_python(value.strip())
        except ValueError:
            length = None
        if length is not None and length > timedelta(0):
            return Duration(length=length)
    raise ValueError(DURATION_EXPECTED)


PolicyDuration = Annotated[Duration, BeforeValidator(parse_duration)]


class Calendar(BaseModel):
    """Business days: a time zone, the weekend and holidays."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str = "UTC"
    weekend: list[str] = Field(default_factory=lambda: ["Saturday", "Sunday"])
    holidays: list[date] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA time zone such as Europe/Prague, got {value!r}") from None
        return value

    @field_validator("weekend")
    @classmethod
    def _weekday_names(cls, value: list[str]) -> list[str]:
        names = [day.capitalize() for day in value]
        unknown = [day for day in names if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"expected weekday names such as Saturday, got {', '.join(unknown)}")
        if len(set(names)) >= 7:
            raise ValueError("the weekend cannot be every day of the week")
        return names


class SlaTable(BaseModel):
    """Time to fix by impact."""

    model_config = ConfigDict(extra="forbid")

    Critical: PolicyDuration
    Important: PolicyDuration
    Moderate: PolicyDuration
    Low: PolicyDuration

    def for_impact(self, impact: Impact) -> Duration:
        """Return the time to fix for one impact."""
        return getattr(self, impact.value)


DEFAULT_SLA_TABLES = {
    "compliance_priority": {"Critical": "7 days", "Important": "21 days", "Moderate": "50 days", "Low": "180 days"},
    "standard": {"Critical": "30 days", "Important": "60 days", "Moderate": "90 days", "Low": "180 days"},
}


class Sla(BaseModel):
    """Fix deadlines: Major Incidents, compliance-priority streams and the rest."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _fill_tables(cls, data: Any) -> Any:
        """Take the default for any impact a policy's table leaves out."""
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        for name, defaults in DEFAULT_SLA_TABLES.items():
            if isinstance(filled.get(name), dict):
                filled[name] = {**defaults, **filled[name]}
        return filled

    major_incident: PolicyDuration = Duration(business_days=5)
    statement_approval: PolicyDuration = Duration(business_days=2)
    """Time for legal and communications to review a Major Incident's statement."""
    compliance_priority: SlaTable = SlaTable(**DEFAULT_SLA_TABLES["compliance_priority"])
    standard: SlaTable = SlaTable(**DEFAULT_SLA_TABLES["standard"])


class EscalationLevel(BaseModel):
    """One step of the escalation ladder: whom to tell, how long after the previous step."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    notify: list[str] = Field(min_length=1)
    """Recipient groups (keys of `recipients`), `owner`, or email addresses."""
    after: PolicyDuration = Duration()


class Embargo(BaseModel):
    """Limits on embargoes."""

    model_config = ConfigDict(extra="forbid")

    maximum: PolicyDuration = Duration(length=timedelta(days=14))
    readiness_lead: PolicyDuration = Duration(length=timedelta(hours=48))

    @field_validator("readiness_lead")
    @classmethod
    def _fixed_length(cls, value: Duration) -> Duration:
        if value.business_days:
            raise ValueError("expected a fixed length such as \"48 hours\", not business days")
        return value


ROLES = ["triage", "assessor", "psirt_lead", "legal", "communications"]


class Roles(BaseModel):
    """Decision permissions. Without any people listed, every decision is open to anyone."""

    model_config = ConfigDict(extra="forbid")

    people: dict[str, list[str]] = Field(default_factory=dict)
    """Person (the `by` of a decision) to roles: triage, assessor, psirt_lead, legal, communications."""
    owners: dict[str, list[str]] = Field(default_factory=dict)
    """`product/stream` to the engineering owners who decide on its trackers."""

    @field_validator("people")
    @classmethod
    def _known_roles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for person, roles in value.items():
            unknown = [role for role in roles if role not in ROLES]
            if unknown:
                raise ValueError(f"{person} has unknown roles {', '.join(unknown)}; expected some of {', '.join(ROLES)}")
        return value

    @property
    def enforced(self) -> bool:
        """Tell whether role checks apply."""
        return bool(self.people or self.owners)


class Notifications(BaseModel):
    """Delivery settings of escalation emails."""

    model_config = ConfigDict(extra="forbid")

    sender: str = "irp@localhost"
    smtp_host: str | None = None
    """SMTP server; without one, emails are written as .eml files to the outbox."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    outbox: str | None = None
    """Folder for .eml files; defaults to `outbox` under IRP_HOME."""


class Policy(BaseModel):
    """The plan's numbers and people, loaded from a YAML file."""

    model_config = ConfigDict(extra="forbid")

    version: str = Field(default="builtin", min_length=1, max_length=100)
    calendar: Calendar = Calendar()
    triage_deadline: PolicyDuration = Duration(business_days=3)
    sla: Sla = Sla()
    reminder_fraction: float = Field(default=0.75, gt=0, lt=1)
    escalation: list[EscalationLevel] = Field(
        default_factory=lambda: [
            EscalationLevel(name="owner", notify=["owner"]),
            EscalationLevel(name="team lead", notify=["team_lead"], after=Duration(business_days=1)),
            EscalationLevel(name="PSIRT manager", notify=["psirt_manager"], after=Duration(business_days=2)),
        ],
        min_length=1,
    )
    embargo: Embargo = Embargo()
    recipients: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "owner": ["psirt@localhost"],
            "team_lead": ["psirt-leads@localhost"],
            "psirt_lead": ["psirt-lead@localhost"],
            "psirt_manager": ["psirt-manager@localhost"],
        }
    )
    """Named groups of addresses; `owner` is the fallback when a stream has no owner address."""
    notifications: Notifications = Notifications()
    roles: Roles = Roles()

    @model_validator(mode="after")
    def _ladder_recipients_known(self) -> Policy:
        for index, level in enumerate(self.escalation):
            for recipient in level.notify:
                if recipient != "owner" and "@" not in recipient and recipient not in self.recipients:
                    raise ValueError(
                        f"escalation[{index}].notify names `{recipient}`, which is neither `owner`, "
                        f"an email address nor a key of `recipients` ({', '.join(self.recipients)})"
                    )
        return self


def _format_timedelta(length: timedelta) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
