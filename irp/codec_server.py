"""Temporal's remote codec protocol over HTTP, so the UI and the `temporal` CLI can read encrypted payloads."""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from irp.codec import CodecError, EncryptionCodec, create_private_file, read_private_file
from irp.settings import Settings

HOST = "127.0.0.1"
DEFAULT_PORT = 8234
PORT_VARIABLE = "IRP_CODEC_PORT"
TOKEN_VARIABLE = "IRP_CODEC_TOKEN"
TOKEN_FILE_NAME = "codec-token"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{16,256}")
MAX_BODY_BYTES = 4 * 1024 * 1024
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
ALLOWED_METHODS = "POST, OPTIONS"

log = logging.getLogger(__name__)


class CodecServerError(RuntimeError):
    """The codec server could not start."""


class CodecServer:
    """An HTTP server of the remote codec protocol, served from a background thread."""

    def __init__(self, codec: EncryptionCodec, token: str, allowed_origins: list[str], port: int = 0) -> None:
        host = codec_host()
        try:
            self._server = _CodecHTTPServer((host, port), _CodecRequestHandler)
        except OSError as error:
            raise CodecServerError(
                f"the codec server cannot listen on {host}:{port}: {error.strerror}; set {PORT_VARIABLE} to a free port"
            ) from None
        self._server.codec = codec
        self._server.token = token
        self._server.allowed_origins = frozenset(allowed_origins)
        self._thread = threading.Thread(target=self._server.serve_forever, name="codec-server", daemon=True)

    @property
    def port(self) -> int:
        """TCP port the server listens on."""
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        """Endpoint for `--codec-endpoint` with `--codec-auth "Bearer TOKEN"`."""
        return f"http://{HOST}:{self.port}"

    @property
    def ui_endpoint(self) -> str:
        """Endpoint for the Temporal UI, with the token as the first path segment."""
        return ui_endpoint(self.port, self._server.token)

    def start(self) -> CodecServer:
        """Serve requests in a background thread."""
        self._thread.start()
        log.info("codec server listening on %s", self.endpoint)
        return self

    def serve_forever(self) -> None:
        """Serve requests in this thread until `stop` is called from another one."""
        log.info("codec server listening on %s", self.endpoint)
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        log.info("codec server on %s stopped", self.endpoint)

    def __enter__(self) -> CodecServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def ui_endpoint(port: int, token: str) -> str:
    """Return the endpoint for `--ui-codec-endpoint`, with the token in the path."""
    # The UI sends an Authorization header only with its own login token and only to HTTPS endpoints.
    # NOTE: so the token sits in the dev server's command line and in the UI's settings API, which any
    # local user who can reach the UI port can read.
    return f"http://{HOST}:{port}/{token}"


def codec_host() -> str:
    """Return the address to listen on: IRP_CODEC_HOST, 127.0.0.1 by default (0.0.0.0 in a container)."""
    return os.environ.get("IRP_CODEC_HOST", "").strip() or HOST


def codec_port() -> int:
    """Return the codec server port from IRP_CODEC_PORT (default 8234)."""
    value = os.environ.get(PORT_VARIABLE, "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise CodecServerError(f"{PORT_VARIABLE} is `{value}`; set it to a TCP port between 1 and 65535")
    return int(value)


def ui_origins(settings: Settings) -> list[str]:
    """Return the origins of the Temporal UI that `irp up` starts, which may call the codec server."""
    return [f"http://127.0.0.1:{settings.ui_port}", f"http://localhost:{settings.ui_port}"]


def token_file_path(settings: Settings) -> Path:
    """Return the token file under IRP_HOME."""
    return settings.home / TOKEN_FILE_NAME


def load_token(settings: Settings) -> str:
    """Return the bearer token from IRP_CODEC_TOKEN, or from the token file, which first use creates."""
    configured = os.environ.get(TOKEN_VARIABLE, "").strip()
    if configured:
        return _checked_token(configured, TOKEN_VARIABLE)
    path = token_file_path(settings)
    if create_private_file(path, secrets.token_urlsafe(32) + "\n"):
        log.info("created the codec token file %s", path)
    return _checked_token(read_private_file(path).strip(), str(path))


def token_location(settings: Settings) -> str:
    """Describe where the token comes from, for the user: the variable or the file."""
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        return TOKEN_VARIABLE
    return str(token_file_path(settings))


def _checked_token(token: str, source: str) -> str:
    if not TOKEN_PATTERN.fullmatch(token):
        raise CodecError(f"the codec token in {source} must be 16 to 256 letters, digits, `.`, `_`, `~` or `-`")
    return token


class _CodecHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    codec: EncryptionCodec
    token: str
    allowed_origins: frozenset[str]


class _CodecRequestHandler(BaseHTTPRequestHandler):
    """Handler of `POST .../encode` and `POST .../decode`; the last path segment picks the operation."""

    server: _CodecHTTPServer
    protocol_version = "HTTP/1.1"

    def do_OPTIONS(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Respond to a CORS preflight, which browsers send without credentials."""
        self._respond(HTTPStatus.NO_CONTENT, None)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Encode or decode the payloads in the request body."""
        segments = [segment for segment in urlsplit(self.path).path.split("/") if segment]
        if not segments or segments[-1] not in ("encode", "decode"):
            self._discard_body()
            self._respond(HTTPStatus.NOT_FOUND, {"error": "not found; POST to /encode or /decode"})
            return
        if not self._authorized(segments[:-1]):
            self._discard_body()
            self._respond(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return

        body = self._read_body()
        if body is None:
            return
        try:
            payloads = _parse_payloads(body)
            convert = self.server.codec.encrypt if segments[-1] == "encode" else self.server.codec.decrypt
            converted = [convert(payload) for payload in payloads.payloads]
        except CodecError as error:
            self._respond(HTTPStatus.BAD_REQUEST, {"error": str(error)})
            return
        self._respond(HTTPStatus.OK, {"payloads": [json_format.MessageToDict(payload) for payload in converted]})

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        """Reject every GET: the protocol has POST only."""
        self._respond(HTTPStatus.NOT_FOUND, {"error": "not found; POST to /encode or /decode"})

    def _authorized(self, prefix: list[str]) -> bool:
        """Accept the token as a bearer token, or as the only path segment before the operation."""
        expected = self.server.token.encode()
        header = self.headers.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), expected):
            return True
        return len(prefix) == 1 and hmac.compare_digest(prefix[0].encode(), expected)

    def _read_body(self) -> bytes | None:
        """Read the body, or respond with 411 or 413 and return None."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._respond(HTTPStatus.LENGTH_REQUIRED, {"error": "the request needs a Content-Length header"})
            return None
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            self._respond(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"error": f"the request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes"},
            )
            return None
        return self.rfile.read(int(length))

    def _discard_body(self) -> None:
        """Skip a small unread body so the connection stays usable, or close a large one."""
        length = self.headers.get("Content-Length", "0")
        if length.isdigit() and int(length) <= MAX_BODY_BYTES:
            self.rfile.read(int(length))
        else:
            self.close_connection = True

    def _respond(self, status: HTTPStatus, document: dict | None) -> None:
        if status >= HTTPStatus.BAD_REQUEST and document is not None:
            log.warning("codec request from %s failed with %d: %s", self.client_address[0], status, document["error"])
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        origin = self.headers.get("Origin")
        if origin in self.server.allowed_origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            self.send_header("Access-Control-Allow-Methods", ALLOWED_METHODS)
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")
        if document is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the signature of http.server
        # The request line can contain the token, so only the status and the client are logged.
        log.debug("codec request from %s returned status %s", self.client_address[0], args[1] if len(args) > 1 else "unknown")

    def log_error(self, format: str, *args: object) -> None:  # noqa: A002 - the signature of http.server
        code = args[0] if args and isinstance(args[0], int) else "an error"
        log.warning("codec request from %s failed with %s", self.client_address[0], code)


def _parse_payloads(body: bytes) -> Payloads:
    """Parse `{"payloads": [...]}` in protobuf JSON, raising `CodecError` with the reason."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CodecError(f"the request body is not valid JSON: {error}") from None
    except RecursionError:
        raise CodecError("the request body is not valid JSON: it is nested too deeply") from None
    if not isinstance(document, dict):
        raise CodecError('the request body must be a JSON object {"payloads": [...]}')
    try:
        return json_format.ParseDict(document, Payloads())
    except json_format.ParseError as error:
        raise CodecError(f"the request body is not a Temporal Payloads object: {error}") from None
