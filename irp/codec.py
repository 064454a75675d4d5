"""Encryption of every payload irp sends to Temporal: AES-256-GCM with a rotating key ring."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

from irp.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
KEYS_VARIABLE = "IRP_CODEC_KEYS"
SWITCH_VARIABLE = "IRP_CODEC"
KEY_FILE_NAME = "codec-keys.json"
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PRIVATE_MODE = 0o600

log = logging.getLogger(__name__)


class CodecError(ValueError):
    """A key ring, key file or encrypted payload that the codec cannot use."""


class UnknownKeyIdError(CodecError):
    """An encrypted payload whose key id is not in the key ring."""


@dataclass(frozen=True)
class KeyRing:
    """AES-256 keys by key id, oldest first, so the last one encrypts new payloads."""

    keys: dict[str, bytes]
    source: str
    """Origin of the keys for error messages: a variable name or a file path."""

    def __post_init__(self) -> None:
        if not self.keys:
            raise CodecError(f"{self.source} contains no key")

    @property
    def newest_id(self) -> str:
        """Id of the key that encrypts new payloads."""
        return next(reversed(self.keys))

    def key(self, key_id: str) -> bytes:
        """Return the key with this id, raising `UnknownKeyIdError` when the ring does not contain it."""
        try:
            return self.keys[key_id]
        except KeyError:
            raise UnknownKeyIdError(
                f"the payload was encrypted with key id `{key_id}`, which is not in the key ring from {self.source} "
                f"(it has {', '.join(self.keys)}); restore that key to decrypt it"
            ) from None


class EncryptionCodec(PayloadCodec):
    """Payload codec that encrypts with the newest key and decrypts with any key of the ring."""

    def __init__(self, key_ring: KeyRing, reload: Callable[[], KeyRing] | None = None) -> None:
        self.key_ring = key_ring
        self._reload = reload

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload, metadata included, with the newest key."""
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt encrypted payloads and pass any other payload through unchanged."""
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """Encrypt one payload: the data is the nonce, then the ciphertext of the serialised payload."""
        key_ring = self.key_ring
        key_id = key_ring.newest_id
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(key_ring.key(key_id)).encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + ciphertext,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """Decrypt one payload, or return it as it is when it is not encrypted."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_key_id:
            raise CodecError(f"an encrypted payload has no `{KEY_ID_METADATA}` metadata, so no key can decrypt it")
        key_id = raw_key_id.decode("utf-8", errors="replace")
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise CodecError(f"the payload encrypted with key id `{key_id}` is truncated ({len(payload.data)} bytes)")

        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plaintext = AESGCM(self._key(key_id)).decrypt(nonce, ciphertext, None)
        except InvalidTag:
            raise CodecError(
                f"the payload encrypted with key id `{key_id}` failed authentication: the key is wrong or the data was changed"
            ) from None
        try:
            return Payload.FromString(plaintext)
        except DecodeError:
            raise CodecError(f"the payload decrypted with key id `{key_id}` is not a serialised Temporal payload") from None

    def _key(self, key_id: str) -> bytes:
        """Find a key, reloading the ring once so that a key rotated in by another process is found."""
        if key_id in self.key_ring.keys or self._reload is None:
            return self.key_ring.key(key_id)
        self.key_ring = self._reload()
        log.info("reloaded the codec key ring from %s to find key id %s", self.key_ring.source, key_id)
        return self.key_ring.key(key_id)


def codec_enabled() -> bool:
    """Tell whether payloads are encrypted: `IRP_CODEC=off` turns encryption off for debugging."""
    value = os.environ.get(SWITCH_VARIABLE, "on").strip().lower()
    if value in ("", "on"):
        return True
    if value == "off":
        return False
    raise CodecError(f"{SWITCH_VARIABLE} is `{value}`; set it to `on` or `off`")


def build_codec(settings: Settings) -> EncryptionCodec:
    """Build the codec over the configured key ring, reloading it when it meets a new key id."""
    return EncryptionCodec(load_key_ring(settings), reload=lambda: load_key_ring(settings))


def build_data_converter(settings: Settings) -> DataConverter:
    """Build the pydantic data converter that encrypts payloads and failure messages."""
    # NOTE: Temporal never passes search attribute values through a codec, so IrpProducts and the other
    # search attributes stay readable in its database and visibility store.
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=build_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def key_file_path(settings: Settings) -> Path:
    """Return the key file under IRP_HOME."""
    return settings.home / KEY_FILE_NAME


def load_key_ring(settings: Settings) -> KeyRing:
    """Load the key ring from IRP_CODEC_KEYS, or from the key file, which first use creates."""
    configured = os.environ.get(KEYS_VARIABLE, "").strip()
    if configured:
        return parse_key_list(configured)

    path = key_file_path(settings)
    if create_private_file(path, _key_file_text({new_key_id(): AESGCM.generate_key(bit_length=256)})):
        log.info("created the codec key file %s with one new key", path)
    return read_key_file(path)


def rotate_key(settings: Settings) -> str:
    """Add a new newest key to the key file and return its id, keeping older keys for decryption."""
    if os.environ.get(KEYS_VARIABLE, "").strip():
        raise CodecError(f"the keys come from {KEYS_VARIABLE}; rotate by appending a new `id:base64key` entry to it")
    # NOTE: two rotations at the same moment both read the old file, and the last write drops the other new key.
    key_ring = load_key_ring(settings)
    key_id = new_key_id()
    keys = {**key_ring.keys, key_id: AESGCM.generate_key(bit_length=256)}
    replace_private_file(key_file_path(settings), _key_file_text(keys))
    log.info("added codec key %s to %s", key_id, key_file_path(settings))
    return key_id


def new_key_id() -> str:
    """Return a fresh key id: the UTC creation time and a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def parse_key_list(text: str, source: str = KEYS_VARIABLE) -> KeyRing:
    """Parse `id1:base64key,id2:base64key` (newest last) into a key ring."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate(text.split(","), start=1):
        key_id, separator, encoded = entry.strip().partition(":")
        if not separator:
            raise CodecError(f"{source} entry {number} is not `id:base64key`")
        keys[_checked_key_id(key_id, f"{source} entry {number}", keys)] = decode_key(encoded, f"{source} key `{key_id}`")
    return KeyRing(keys, source)


def read_key_file(path: Path) -> KeyRing:
    """Read a key file, `{"keys": [{"id": ..., "key": base64}, ...]}` with the newest last."""
    text = read_private_file(path)
    try:
        entries = json.loads(text)["keys"]
    except (json.JSONDecodeError, TypeError, KeyError) as error:
        raise CodecError(f"{path} is not a codec key file with a `keys` list: {error}") from None
    if not isinstance(entries, list):
        raise CodecError(f"{path}: `keys` is not a list")

    keys: dict[str, bytes] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not isinstance(entry.get("key"), str):
            raise CodecError(f"{path}: key {number} is not an object with string `id` and `key`")
        key_id = _checked_key_id(entry["id"], f"{path}: key {number}", keys)
        keys[key_id] = decode_key(entry["key"], f"{path}: key `{key_id}`")
    return KeyRing(keys, str(path))


def decode_key(encoded: str, where: str) -> bytes:
    """Decode one base64 AES-256 key, naming `where` it came from on error but never the key."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CodecError(f"{where} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise CodecError(f"{where} is {len(key)} bytes long; AES-256 needs {KEY_BYTES} bytes (44 base64 characters)")
    return key


def _checked_key_id(key_id: str, where: str, seen: dict[str, bytes]) -> str:
    key_id = key_id.strip()
    if not KEY_ID_PATTERN.fullmatch(key_id):
        raise CodecError(f"{where} has the key id `{key_id}`; use 1 to 64 letters, digits, `.`, `_` or `-`")
    if key_id in seen:
        raise CodecError(f"{where} repeats the key id `{key_id}`")
    return key_id


def _key_file_text(keys: dict[str, bytes]) -> str:
    entries = [{"id": key_id, "key": base64.b64encode(key).decode("ascii")} for key_id, key in keys.items()]
    return json.dumps({"keys": entries}, indent=2) + "\n"


def read_private_file(path: Path) -> str:
    """Read a secret file, rejecting one that group or other users can access."""
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CodecError(
                f"{path} is accessible to group or other users (mode {mode:o}); run `chmod 600 {path}` and try again"
            )
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CodecError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CodecError(f"{path} is not UTF-8 text") from None


def create_private_file(path: Path, text: str) -> bool:
    """Create a mode 0600 file with this text unless it exists, and return whether it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _write_temporary(path, text)
    try:
        # A hard link never replaces an existing file, so two processes starting at once keep one secret.
        os.link(temporary, path)
        return True
    except FileExistsError:
        return False
    finally:
        temporary.unlink()


def replace_private_file(path: Path, text: str) -> None:
    """Replace a file atomically with a mode 0600 file holding this text."""
    os.replace(_write_temporary(path, text), path)


def _write_temporary(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        output.write(text)
    return temporary
