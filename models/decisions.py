"""Payloads of the analysts' decisions: the JSON contract of each signal."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.incident import EngineeringDecision, Impact, ProductImpact, TriageOutcome

NAME_MAX = 200
TEXT_MAX = 20_000


class Decision(BaseModel):
    """Fields every decision carries: who decided and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    by: str = Field(min_length=1, max_length=NAME_MAX, description="the analyst who decides")
    reason: str = Field(min_length=1, max_length=TEXT_MAX, description="why")


class TriageDecision(Decision):
    """`triage`: is any product of ours affected?"""

    decision: TriageOutcome
    duplicate_of: str | None = Field(default=None, max_length=NAME_MAX)
    products: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="streams the analyst marks affected, as `product/stream`",
    )

    @model_validator(mode="after")
    def _duplicate_needs_target(self) -> TriageDecision:
        if self.decision == TriageOutcome.duplicate and not self.duplicate_of:
            raise ValueError("a `duplicate` decision needs `duplicate_of`")
        return self


class AssessDecision(Decision):
    """`assess`: impact, CVSS, CWE, statement, mitigation, per-stream impact."""

    impact: Impact | None = None
    cvss_vector: str | None = Field(default=None, max_length=500)
    cwe: str | None = Field(default=None, max_length=NAME_MAX)
    statement: str | None = Field(default=None, max_length=TEXT_MAX)
    mitigation: str | None = Field(default=None, max_length=TEXT_MAX)
    product_impacts: dict[str, ProductImpact] = Field(default_factory=dict, max_length=500)

    @field_validator("impact", mode="before")
    @classmethod
    def _impact_any_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().capitalize()
        return value

    @field_validator("cwe")
    @classmethod
    def _cwe_form(cls, value: str | None) -> str | None:
        if value is not None and not value.upper().startswith("CWE-"):
            raise ValueError("expected a CWE id such as CWE-79")
        return value.upper() if value else value


class TrackerDecision(Decision):
    """`tracker_decision`: the engineering decision on one stream's tracker."""

    tracker: str = Field(min_length=1, max_length=NAME_MAX, description="tracker id or stream")
    decision: EngineeringDecision
    target_date: date | None = None
    fixed_in: str | None = Field(default=None, max_length=NAME_MAX)
    justification: str | None = Field(default=None, max_length=TEXT_MAX)

    @model_validator(mode="after")
    def _decision_details(self) -> TrackerDecision:
        if self.decision == EngineeringDecision.fix and self.target_date is None:
            raise ValueError("a `fix` decision needs `target_date`")
        if self.decision == EngineeringDecision.fixed and not self.fixed_in:
            raise ValueError("a `fixed` decision needs `fixed_in`")
        needs_justification = {EngineeringDecision.wont_fix, EngineeringDecision.not_affected}
        if self.decision in needs_justification and not self.justification:
            raise ValueError(f"a `{self.decision.value}` decision needs `justification`")
        return self


class AssignDecision(Decision):
    """`assign`: who owns the incident."""

    owner: str = Field(min_length=1, max_length=NAME_MAX)


class CommentDecision(Decision):
    """`comment`: a note in the decision log."""

    reason: str = Field(default="comment", max_length=TEXT_MAX)
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class CloseDecision(Decision):
    """`close`: close the incident with a resolution."""

    resolution: str = Field(min_length=1, max_length=NAME_MAX)


class EmbargoAction(StrEnum):
    """Action of an `embargo` decision."""

    set = "set"
    move = "move"
    lift_now = "lift_now"
    leaked = "leaked"


class EmbargoDecision(Decision):
    """`embargo`: set, move or lift the embargo; `leaked` lifts it at once."""

    action: EmbargoAction
    public_date: datetime | None = Field(
        default=None, description="ISO 8601 instant with a time zone, e.g. 2027-01-15T14:00:00+00:00"
    )

    @model_validator(mode="after")
    def _date_for_set_and_move(self) -> EmbargoDecision:
        if self.action in (EmbargoAction.set, EmbargoAction.move):
            if self.public_date is None:
                raise ValueError(f"`{self.action.value}` needs `public_date`")
            if self.public_date.tzinfo is None:
                raise ValueError("`public_date` needs a time zone, such as 2027-01-15T14:00:00Z")
        return self


class ApproveDismissalDecision(Decision):
    """`approve_dismissal`: a second analyst confirms or refuses a dismissal."""

    approved: bool


class MajorIncidentDecision(Decision):
    """`major_incident`: request, approve or reject Major Incident handling."""

    state: Literal["requested", "approved", "rejected"]


class ApproveStatementDecision(Decision):
    """`approve_statement`: legal or communications review of the public statement."""

    role: Literal["legal", "communications"]
    approved: bool
    comment: str | None = Field(default=None, max_length=TEXT_MAX)


class HoldDecision(Decision):
    """`hold`: stop the deadline clocks, e.g. while waiting on the reporter."""


class ResumeDecision(Decision):
    """`resume`: restart the deadline clocks."""


DECISION_MODELS: dict[str, type[Decision]] = {
    "triage": TriageDecision,
    "assess": AssessDecision,
    "tracker_decision": TrackerDecision,
    "assign": AssignDecision,
    "comment": CommentDecision,
    "close": CloseDecision,
    "embargo": EmbargoDecision,
    "approve_dismissal": ApproveDismissalDecision,
    "major_incident": MajorIncidentDecision,
    "approve_statement": ApproveStatementDecision,
    "hold": HoldDecision,
    "resume": ResumeDecision,
}


class DecisionRequest(BaseModel):
    """Argument of the `decide` update: a signal name and its JSON payload."""

    signal: str
    input: Any = None
