"""The payload codec, its key ring and key file, the codec server, and no plaintext in Temporal's history."""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload, Payloads, WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from irp.codec import (
    ENCODING,
    KEY_ID_METADATA,
    CodecError,
    EncryptionCodec,
    UnknownKeyIdError,
    build_codec,
    build_data_converter,
    codec_enabled,
    key_file_path,
    load_key_ring,
    parse_key_list,
    rotate_key,
)
from irp.codec_server import MAX_BODY_BYTES, CodecServer, CodecServerError, load_token, token_file_path
from irp.settings import Settings

pytestmark = pytest.mark.timeout(60)

CANARY = "embargoed-canary-7f3a9c"
UI_ORIGIN = "http://127.0.0.1:8233"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(32, 64))).decode()


@pytest.fixture(autouse=True)
def codec_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear the codec variables so each test chooses its own key source."""
    for name in ("IRP_CODEC", "IRP_CODEC_KEYS", "IRP_CODEC_TOKEN", "IRP_CODEC_PORT"):
        monkeypatch.delenv(name, raising=False)


def plain_payload(text: str = CANARY) -> Payload:
    """Build a JSON payload as the pydantic converter would."""
    return Payload(metadata={"encoding": b"json/plain", "messageType": b"Decision"}, data=json.dumps({"reason": text}).encode())


async def test_codec_round_trip(settings: Settings):
    codec = build_codec(settings)
    original = plain_payload()

    [encrypted] = await codec.encode([original])
    assert encrypted.metadata["encoding"] == ENCODING
    assert encrypted.metadata[KEY_ID_METADATA] == codec.key_ring.newest_id.encode()
    assert CANARY.encode() not in encrypted.SerializeToString()

    [decrypted] = await codec.decode([encrypted])
    assert decrypted == original


async def test_codec_nonce_differs_per_payload(settings: Settings):
    codec = build_codec(settings)
    first, second = await codec.encode([plain_payload(), plain_payload()])
    assert first.data != second.data


async def test_rotation_keeps_old_payloads_readable(settings: Settings):
    old_codec = EncryptionCodec(load_key_ring(settings))
    old_key_id = old_codec.key_ring.newest_id
    [old_payload] = await old_codec.encode([plain_payload("before rotation")])

    new_key_id = rotate_key(settings)
    new_ring = load_key_ring(settings)
    assert new_key_id != old_key_id
    assert list(new_ring.keys) == [old_key_id, new_key_id]

    new_codec = EncryptionCodec(new_ring)
    assert await new_codec.decode([old_payload]) == [plain_payload("before rotation")]
    [new_payload] = await new_codec.encode([plain_payload("after rotation")])
    assert new_payload.metadata[KEY_ID_METADATA] == new_key_id.encode()


async def test_running_codec_finds_rotated_key(settings: Settings):
    running = build_codec(settings)
    rotate_key(settings)
    [payload] = await build_codec(settings).encode([plain_payload()])

    assert await running.decode([payload]) == [plain_payload()]


async def test_unencrypted_payload_passes_through(settings: Settings):
    from_the_ui = Payload(metadata={"encoding": b"json/plain"}, data=b'{"by": "alice", "reason": "typed in the UI"}')
    binary_null = Payload(metadata={"encoding": b"binary/null"})

    assert await build_codec(settings).decode([from_the_ui, binary_null]) == [from_the_ui, binary_null]


async def test_unknown_key_id_is_named(settings: Settings):
    [payload] = await EncryptionCodec(parse_key_list(f"lost-key:{KEY_A}")).encode([plain_payload()])

    with pytest.raises(UnknownKeyIdError, match="`lost-key`"):
        await build_codec(settings).decode([payload])


async def test_tampered_payload_fails_authentication(settings: Settings):
    codec = build_codec(settings)
    [payload] = await codec.encode([plain_payload()])
    payload.data = payload.data[:-1] + bytes([payload.data[-1] ^ 1])

    with pytest.raises(CodecError, match="failed authentication"):
        await codec.decode([payload])


def test_key_file_created_private(settings: Settings):
    fresh = dataclasses.replace(settings, home=settings.home / "not" / "yet" / "there")
    key_ring = load_key_ring(fresh)
    path = key_file_path(fresh)

    assert path.stat().st_mode & 0o777 == 0o600
    assert len(key_ring.keys) == 1
    assert load_key_ring(fresh).keys == key_ring.keys


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_rejected_when_readable(settings: Settings, mode: int):
    load_key_ring(settings)
    path = key_file_path(settings)
    os.chmod(path, mode)

    with pytest.raises(CodecError, match="accessible to group or other users") as raised:
        load_key_ring(settings)
    assert str(path) in str(raised.value)
    assert "chmod 600" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not a codec key file"),
        ('{"keys": {}}', "`keys` is not a list"),
        ('{"keys": []}', "contains no key"),
        ('{"keys": [{"id": "a"}]}', "key 1 is not an object"),
        ('{"keys": [{"id": "a", "key": "%%%"}]}', "is not valid base64"),
    ],
)
def test_malformed_key_file_is_named(settings: Settings, content: str, problem: str):
    path = key_file_path(settings)
    path.write_text(content)
    path.chmod(0o600)

    with pytest.raises(CodecError, match=problem) as raised:
        load_key_ring(settings)
    assert str(path) in str(raised.value)


def test_keys_variable_newest_last(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IRP_CODEC_KEYS", f"2025-q4:{KEY_A}, 2026-q1:{KEY_B}")
    key_ring = load_key_ring(settings)

    assert key_ring.newest_id == "2026-q1"
    assert key_ring.keys["2025-q4"] == bytes(range(32))
    assert not key_file_path(settings).exists()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"first:{KEY_A},second", "entry 2 is not `id:base64key`"),
        ("first:not*base64", "key `first` is not valid base64"),
        (f"short:{base64.b64encode(bytes(16)).decode()}", "key `short` is 16 bytes long; AES-256 needs 32 bytes"),
        (f"same:{KEY_A},same:{KEY_B}", "repeats the key id `same`"),
        (f"bad id:{KEY_A}", "has the key id `bad id`"),
        (f":{KEY_A}", "has the key id ``"),
    ],
)
def test_keys_variable_errors(settings: Settings, monkeypatch: pytest.MonkeyPatch, value: str, problem: str):
    monkeypatch.setenv("IRP_CODEC_KEYS", value)

    with pytest.raises(CodecError, match="IRP_CODEC_KEYS") as raised:
        load_key_ring(settings)
    assert problem in str(raised.value)
    assert KEY_A not in str(raised.value)


def test_rotation_rejected_with_keys_variable(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IRP_CODEC_KEYS", f"only:{KEY_A}")

    with pytest.raises(CodecError, match="appending a new `id:base64key` entry"):
        rotate_key(settings)


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("on", True), ("OFF", False), ("off", False)])
def test_codec_switch(monkeypatch: pytest.MonkeyPatch, value: str | None, enabled: bool):
    if value is not None:
        monkeypatch.setenv("IRP_CODEC", value)
    assert codec_enabled() is enabled


def test_codec_switch_rejects_other_values(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IRP_CODEC", "maybe")
    with pytest.raises(CodecError, match="IRP_CODEC is `maybe`"):
        codec_enabled()


def test_token_file_created_private(settings: Settings):
    token = load_token(settings)

    assert token_file_path(settings).stat().st_mode & 0o777 == 0o600
    assert len(token) >= 32
    assert load_token(settings) == token


def test_token_file_rejected_when_readable(settings: Settings):
    load_token(settings)
    os.chmod(token_file_path(settings), 0o644)

    with pytest.raises(CodecError, match="accessible to group or other users"):
        load_token(settings)


def test_token_variable_checked(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IRP_CODEC_TOKEN", "short")
    with pytest.raises(CodecError, match="IRP_CODEC_TOKEN must be 16 to 256"):
        load_token(settings)

    monkeypatch.setenv("IRP_CODEC_TOKEN", "a-long-enough-token-0123")
    assert load_token(settings) == "a-long-enough-token-0123"
    assert not token_file_path(settings).exists()


class CodecClient:
    """HTTP requests to a codec server under test."""

    def __init__(self, server: CodecServer, token: str) -> None:
        self.server = server
        self.token = token

    def request(self, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
        """Send one request and return the status, the headers and the decoded JSON body (or None)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            content = response.read()
            return response.status, dict(response.getheaders()), json.loads(content) if content else None
        finally:
            connection.close()

    def post(self, operation: str, payloads: list[Payload], **headers: str):
        """POST payloads to /encode or /decode with the bearer token."""
        body = json_format.MessageToJson(Payloads(payloads=payloads))
        return self.request(
            "POST", f"/{operation}", body, {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **headers}
        )


@pytest.fixture
def codec_client(settings: Settings) -> Iterator[CodecClient]:
    """Start a codec server on a free 127.0.0.1 port and return a client for it."""
    token = load_token(settings)
    with CodecServer(build_codec(settings), token, [UI_ORIGIN, "http://localhost:8233"]) as server:
        yield CodecClient(server, token)


def parse_payloads(document: dict) -> list[Payload]:
    """Parse the protobuf JSON of a codec response."""
    return list(json_format.ParseDict(document, Payloads()).payloads)


def test_server_encode_then_decode(codec_client: CodecClient):
    status, headers, encoded = codec_client.post("encode", [plain_payload(), plain_payload("second")])
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    encrypted = parse_payloads(encoded)
    assert [payload.metadata["encoding"] for payload in encrypted] == [ENCODING, ENCODING]
    assert CANARY.encode() not in b"".join(payload.data for payload in encrypted)

    status, _, decoded = codec_client.post("decode", encrypted)
    assert status == 200
    assert parse_payloads(decoded) == [plain_payload(), plain_payload("second")]


def test_server_decode_passes_plain_payloads(codec_client: CodecClient):
    status, _, decoded = codec_client.post("decode", [plain_payload()])
    assert status == 200
    assert parse_payloads(decoded) == [plain_payload()]


def test_server_accepts_token_in_path(codec_client: CodecClient):
    [encrypted] = parse_payloads(codec_client.post("encode", [plain_payload()])[2])
    body = json_format.MessageToJson(Payloads(payloads=[encrypted]))

    status, headers, decoded = codec_client.request(
        "POST", f"/{codec_client.token}/decode", body, {"Content-Type": "application/json", "Origin": UI_ORIGIN}
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert parse_payloads(decoded) == [plain_payload()]


def test_server_answers_empty_payloads(codec_client: CodecClient):
    status, _, answer = codec_client.post("decode", [])
    assert status == 200
    assert answer == {"payloads": []}


def test_server_cors_preflight(codec_client: CodecClient):
    status, headers, body = codec_client.request(
        "OPTIONS", "/decode", headers={"Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert status == 204
    assert body is None
    assert headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-Namespace"
    assert headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"


def test_server_cors_other_origin(codec_client: CodecClient):
    status, headers, _ = codec_client.request("OPTIONS", "/decode", headers={"Origin": "http://evil.example"})
    assert status == 204
    assert "Access-Control-Allow-Origin" not in headers

    _, headers, _ = codec_client.request("OPTIONS", "/decode", headers={"Origin": "http://localhost:8233"})
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8233"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/decode", {}),
        ("/decode", {"Authorization": "Bearer wrong-token-0123456789"}),
        ("/decode", {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("/wrong-token-0123456789/decode", {}),
    ],
)
def test_server_rejects_missing_or_wrong_token(codec_client: CodecClient, path: str, headers: dict):
    body = json_format.MessageToJson(Payloads(payloads=[plain_payload()]))
    status, _, answer = codec_client.request("POST", path, body, {"Content-Type": "application/json", **headers})
    assert status == 401
    assert answer == {"error": "missing or wrong bearer token"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", 'must be a JSON object {"payloads": [...]}'),
        ('{"payloads": [{"data": 5}]}', "not a Temporal Payloads object"),
        ('{"payloads": [], "extra": 1}', "not a Temporal Payloads object"),
        ('{"payloads": {"data": ""}}', "not a Temporal Payloads object"),
    ],
)
def test_server_rejects_malformed_body(codec_client: CodecClient, body: str, problem: str):
    status, _, answer = codec_client.request("POST", "/decode", body, {"Authorization": f"Bearer {codec_client.token}"})
    assert status == 400
    assert problem in answer["error"]


def test_server_rejects_unknown_key_id(codec_client: CodecClient):
    foreign = EncryptionCodec(parse_key_list(f"lost:{KEY_A}")).encrypt(plain_payload())
    status, _, answer = codec_client.post("decode", [foreign])
    assert status == 400
    assert "key id `lost`" in answer["error"]


def test_server_rejects_huge_body(codec_client: CodecClient):
    connection = http.client.HTTPConnection("127.0.0.1", codec_client.server.port, timeout=10)
    try:
        connection.putrequest("POST", "/decode")
        connection.putheader("Authorization", f"Bearer {codec_client.token}")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert "limit is" in json.loads(response.read())["error"]
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "path"), [("POST", "/"), ("POST", "/decode/more"), ("GET", "/decode")])
def test_server_unknown_path(codec_client: CodecClient, method: str, path: str):
    status, _, answer = codec_client.request(method, path, "{}" if method == "POST" else None, {})
    assert status == 404
    assert "POST to /encode or /decode" in answer["error"]


def test_server_port_in_use(settings: Settings, codec_client: CodecClient):
    with pytest.raises(CodecServerError, match="cannot listen on 127.0.0.1") as raised:
        CodecServer(build_codec(settings), codec_client.token, [], port=codec_client.server.port)
    assert "IRP_CODEC_PORT" in str(raised.value)


@activity.defn(name="codec_echo")
async def echo(text: str) -> str:
    """Return the text, so it crosses Temporal as an activity input and result."""
    return text


@activity.defn(name="codec_fail")
async def fail_with(text: str) -> None:
    """Fail with the text in the error message."""
    raise ApplicationError(f"cannot file the tracker: {text}", non_retryable=True)


@workflow.defn(name="CodecCanary")
class CanaryWorkflow:
    """Workflow whose every payload and failure carries its input text."""

    @workflow.run
    async def run(self, text: str) -> str:
        echoed = await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=10))
        try:
            await workflow.execute_activity(
                fail_with, text, start_to_close_timeout=timedelta(seconds=10), retry_policy=RetryPolicy(maximum_attempts=1)
            )
        except ActivityError as error:
            return f"{echoed} | {error.cause.message}"
        return echoed


def all_payloads(message) -> Iterator[Payload]:
    """Yield every Payload inside a protobuf message, at any depth."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            values = value.values() if field.message_type.fields_by_name["value"].message_type else []
        elif field.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            yield from all_payloads(item)


async def test_history_holds_no_plaintext(time_skipping_env: WorkflowEnvironment, settings: Settings):
    plain_client = time_skipping_env.client
    codec_client = Client(
        plain_client.service_client, namespace=plain_client.namespace, data_converter=build_data_converter(settings)
    )
    workflow_id = f"codec-{uuid.uuid4()}"

    async with Worker(
        codec_client,
        task_queue=settings.task_queue,
        workflows=[CanaryWorkflow],
        activities=[echo, fail_with],
        workflow_runner=UnsandboxedWorkflowRunner(),
        workflow_failure_exception_types=[Exception],
    ):
        result = await codec_client.execute_workflow(
            CanaryWorkflow.run,
            f"title: {CANARY}",
            id=workflow_id,
            task_queue=settings.task_queue,
            memo={"title": CANARY},
            static_summary=f"Incident {CANARY}",
        )
    assert result == f"title: {CANARY} | cannot file the tracker: title: {CANARY}"

    history = await plain_client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=plain_client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    payloads = [payload for event in history.history.events for payload in all_payloads(event)]
    assert len(payloads) >= 8, "the history should carry inputs, results, memo, summary and failures"
    for payload in payloads:
        assert payload.metadata["encoding"] == ENCODING
        assert CANARY.encode() not in payload.data
    assert CANARY.encode() not in history.SerializeToString()

    started = history.history.events[0].workflow_execution_started_event_attributes
    [decoded] = await codec_client.data_converter.decode(started.input.payloads, [str])
    assert decoded == f"title: {CANARY}"
    with pytest.raises(KeyError, match="Unknown payload encoding binary/encrypted"):
        await plain_client.get_workflow_handle(workflow_id).result()
