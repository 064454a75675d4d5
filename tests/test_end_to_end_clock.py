"""Deadlines and embargoes in real time on the dev server, with a short policy."""

from __future__ import annotations

import email
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import yaml

from tests.builders import SHORT_LADDER_POLICY, cve_record, write_json
from tests.test_end_to_end import Stack

pytestmark = [pytest.mark.devserver, pytest.mark.timeout(300)]

SHORT_POLICY = {**SHORT_LADDER_POLICY, "version": "short-demo"}


@pytest.fixture
def short_stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path / "home")
    policy = tmp_path / "policy.yml"
    policy.write_text(yaml.safe_dump(SHORT_POLICY))
    running.env["IRP_POLICY"] = str(policy)
    running.start()
    yield running
    running.finish()


def intake(stack: Stack, tmp_path: Path, cve_id: str) -> datetime:
    """Take a record in and return the incident's opening instant."""
    path = write_json(tmp_path / f"{cve_id}.json", cve_record(cve_id))
    result = stack.irp("intake", str(path), "--json")
    assert json.loads(result.stdout)[0]["action"] == "started", result.stderr
    shown = stack.wait_for(cve_id, lambda s: s["opened_at"] is not None)
    return datetime.fromisoformat(shown["opened_at"])


def test_deadlines_and_embargo_in_real_time(short_stack: Stack, tmp_path: Path):
    stack = short_stack
    opened = intake(stack, tmp_path, "CVE-2026-80001")

    embargoed = "CVE-2026-80002"
    intake(stack, tmp_path, embargoed)
    public_date = datetime.now().astimezone() + timedelta(seconds=25)
    setting = stack.irp("decide", embargoed, "embargo", "--by", "lead", "--reason", "CRD agreed",
                        "--action", "set", "--public-date", public_date.isoformat())
    assert setting.returncode == 0, setting.stderr

    leaked = "CVE-2026-80003"
    intake(stack, tmp_path, leaked)
    later = (datetime.now().astimezone() + timedelta(days=5)).isoformat()
    assert stack.irp("decide", leaked, "embargo", "--by", "lead", "--reason", "CRD",
                     "--action", "set", "--public-date", later).returncode == 0
    before_leak = datetime.now().astimezone()
    assert stack.irp("decide", leaked, "embargo", "--by", "lead", "--reason", "on a forum",
                     "--action", "leaked").returncode == 0
    shown = stack.show(leaked)
    assert shown["embargo"]["embargoed"] is False
    assert datetime.fromisoformat(shown["embargo"]["lifted_at"]) - before_leak < timedelta(seconds=2)

    lifted = stack.wait_for(embargoed, lambda s: s["embargo"]["lifted_at"] is not None, timeout=40)
    assert abs(datetime.fromisoformat(lifted["embargo"]["lifted_at"]) - public_date) < timedelta(seconds=1)

    shown = stack.wait_for("CVE-2026-80001", lambda s: len(s["escalations"]) == 4, timeout=40)
    expected = {0: 15, 1: 20, 2: 30, 3: 40}
    for escalation in shown["escalations"]:
        offset = (datetime.fromisoformat(escalation["at"]) - opened).total_seconds()
        assert abs(offset - expected[escalation["level"]]) < 2, escalation

    outbox = [email.message_from_bytes(p.read_bytes()) for p in (stack.home / "outbox").glob("CVE-2026-80001*.eml")]
    sent = {message["To"]: parsedate_to_datetime(message["Date"]) for message in outbox}
    assert set(sent) == {"queue@example.org", "lead@example.org", "manager@example.org"}
    assert abs((sent["manager@example.org"] - opened).total_seconds() - 40) < 2

    at_risk = stack.temporal("workflow", "list", "--query", "IrpAtRisk = true", "--output", "json")
    assert at_risk.returncode == 0, at_risk.stderr
    assert "CVE-2026-80001" in at_risk.stdout

    assert stack.stop() == 0
