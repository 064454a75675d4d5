"""Tests for the production docker-compose.yml: pinned images, no secrets, the namespace job."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from tests.conftest import BIN, REPO, free_port
from workflows import search_attributes

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SECRET_NAMES = re.compile(r"PASSWORD|PWD|KEYS|TOKEN")


def job_script(service: str) -> str:
    """Return a one-off job's shell script with compose's `$$` escapes undone."""
    return SERVICES[service]["command"][0].replace("$$", "$")


def test_images_pinned():
    for name, service in SERVICES.items():
        if "build" in service:
            continue
        image = service["image"]
        assert ":" in image, f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image} is not pinned"


def test_secrets_come_from_environment():
    for name, service in SERVICES.items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(variable):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), f"{name}: {variable} is not `${{VAR:?message}}`"


def test_namespace_job_lists_search_attributes():
    declared = dict(re.findall(r"(Irp\w+):(\w+)", job_script("temporal-create-namespace")))

    expected = {key.name: key.indexed_value_type.name.title().replace("_", "") for key in search_attributes.ALL}

    assert declared == expected


def test_workers_reach_cluster_services():
    worker = SERVICES["worker"]

    assert worker["deploy"]["replicas"] == 2
    assert worker["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert worker["environment"]["TEMPORAL_NAMESPACE"] == "irp"
    assert worker["environment"]["IRP_DATABASE_URL"].startswith("postgresql://irp:")
    assert worker["depends_on"]["temporal-create-namespace"]["condition"] == "service_completed_successfully"
    assert SERVICES["temporal"]["depends_on"]["temporal-admin-tools"]["condition"] == "service_completed_successfully"


@pytest.mark.devserver
@pytest.mark.timeout(120)
def test_namespace_job_runs_twice(tmp_path):
    address = f"127.0.0.1:{free_port()}"
    command = [str(BIN / "temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", address.split(":")[1], "--headless"]
    environment = {**os.environ, "TEMPORAL_ADDRESS": address, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        runs = [
            subprocess.run(["sh", "-c", job_script("temporal-create-namespace")], env=environment, capture_output=True, text=True, timeout=90)
            for _ in range(2)
        ]
        listed = subprocess.run(
            [str(BIN / "temporal"), "operator", "search-attribute", "list", "--namespace", "irp"],
            env=environment, capture_output=True, text=True, timeout=30,
        )
        described = subprocess.run(
            [str(BIN / "temporal"), "operator", "namespace", "describe", "--namespace", "irp"],
            env=environment, capture_output=True, text=True, timeout=30,
        )
    finally:
        server.terminate()
        server.wait(15)

    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
    assert "Namespace irp successfully registered" in runs[0].stdout
    assert "registered" not in runs[1].stdout
    for key in search_attributes.ALL:
        assert re.search(rf"{key.name}\s", listed.stdout), listed.stdout
    assert re.search(r"WorkflowExecutionRetentionTtl\s+87600h", described.stdout), described.stdout
