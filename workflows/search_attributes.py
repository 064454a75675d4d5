"""Custom search attributes that let analysts filter incidents in the Temporal UI."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PHASE = SearchAttributeKey.for_keyword("IrpPhase")
IMPACT = SearchAttributeKey.for_keyword("IrpImpact")
PRODUCTS = SearchAttributeKey.for_keyword_list("IrpProducts")
EMBARGOED = SearchAttributeKey.for_bool("IrpEmbargoed")
AT_RISK = SearchAttributeKey.for_bool("IrpAtRisk")
MAJOR_INCIDENT = SearchAttributeKey.for_bool("IrpMajorIncident")
DUE_AT = SearchAttributeKey.for_datetime("IrpDueAt")
ESCALATION_LEVEL = SearchAttributeKey.for_int("IrpEscalationLevel")

ALL = [PHASE, IMPACT, PRODUCTS, EMBARGOED, AT_RISK, MAJOR_INCIDENT, DUE_AT, ESCALATION_LEVEL]
