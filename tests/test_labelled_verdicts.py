"""Automatic triage against the hand-labelled cases that the benchmark scores."""

from __future__ import annotations

import pytest

from bench.labelled_cases import CASES, LabelledCase, verdict_for
from models.records import AffectStatus

KNOWN_MISSES = {
    "pypi epoch": "a PEP 440 epoch (`1!1.0`) fails the version syntax check, so the verdict is unknown",
}
"""Cases where irp returns `unknown` although the ecosystem's rules decide them: safe, but wrong."""

REQUIRED_ECOSYSTEMS = {"rpm", "deb", "maven", "npm", "pypi", "golang", "semver", "git", "free text"}


def _params() -> list:
    return [
        pytest.param(case, id=case.name, marks=[pytest.mark.xfail(reason=KNOWN_MISSES[case.name], strict=True)])
        if case.name in KNOWN_MISSES
        else pytest.param(case, id=case.name)
        for case in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_labelled_verdict(case: LabelledCase):
    assert verdict_for(case) is case.expected, case.reason


def test_no_wrong_not_affected():
    wrong = [case.name for case in CASES if verdict_for(case) is AffectStatus.not_affected and case.expected is not AffectStatus.not_affected]
    assert wrong == []


def test_known_misses_are_unknown():
    for case in CASES:
        if case.name in KNOWN_MISSES:
            assert verdict_for(case) is AffectStatus.unknown, case.name


def test_cases_cover_ecosystems():
    assert len(CASES) >= 40
    assert REQUIRED_ECOSYSTEMS <= {case.ecosystem for case in CASES}
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.expected for case in CASES} == set(AffectStatus)
