"""Settings read from the environment, in one object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TASK_QUEUE = "irp"
DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_UI_PORT = 8233
DEFAULT_CSAF_BASE_URL = "https://security.example.org/.well-known/csaf"
DEFAULT_PUBLISHER_NAME = "irp demo PSIRT"
DEFAULT_PUBLISHER_NAMESPACE = "https://security.example.org"


@dataclass(frozen=True)
class Settings:
    """Local state location and Temporal connection settings."""

    home: Path
    database_url: str
    temporal_address: str
    temporal_namespace: str
    ui_port: int
    task_queue: str
    policy_file: Path | None = None
    csaf_dir_override: Path | None = None
    """`IRP_CSAF_DIR`; None keeps the CSAF provider directory under `home`."""
    csaf_base_url: str = DEFAULT_CSAF_BASE_URL
    """Public URL the provider directory is served at, without a trailing slash."""
    publisher_name: str = DEFAULT_PUBLISHER_NAME
    publisher_namespace: str = DEFAULT_PUBLISHER_NAMESPACE

    @property
    def rejected_log(self) -> Path:
        """JSON-lines log of every input that intake rejected."""
        return self.home / "rejected-inputs.jsonl"

    @property
    def outputs_dir(self) -> Path:
        """Folder of rendered advisories and other outputs."""
        return self.home / "outputs"

    @property
    def outbox_dir(self) -> Path:
        """Folder of .eml files when no SMTP server is configured."""
        return self.home / "outbox"

    @property
    def csaf_dir(self) -> Path:
        """CSAF provider directory: provider-metadata.json and one folder per TLP label."""
        return self.csaf_dir_override or self.home / "csaf"

    @property
    def temporal_db(self) -> Path:
        """SQLite file of the embedded Temporal dev server."""
        return self.home / "temporal.db"


class InvalidSettings(ValueError):
    """An environment variable irp cannot use, with the variable and the fix."""


def default_home() -> Path:
    """Return `.irp` in the source checkout irp runs from, else in the current folder.

    A checkout's own folder keeps `make run` and every `irp` command on one state
    wherever they are started; an installed irp has no checkout and uses `./.irp`.
    """
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "workflows").is_dir():
        return checkout / ".irp"
    return Path(".irp").resolve()


def load_settings() -> Settings:
    """Read the settings from `IRP_*` and `TEMPORAL_*` environment variables."""
    home = Path(os.environ["IRP_HOME"]).expanduser().resolve() if os.environ.get("IRP_HOME") else default_home()
    database_url = os.environ.get("IRP_DATABASE_URL") or f"sqlite:///{home / 'irp.db'}"
    address = os.environ.get("TEMPORAL_ADDRESS", DEFAULT_ADDRESS)
    _check_address(address)
    return Settings(
        home=home,
        database_url=database_url,
        temporal_address=address,
        temporal_namespace=os.environ.get("TEMPORAL_NAMESPACE", DEFAULT_NAMESPACE),
        ui_port=_port("IRP_UI_PORT", DEFAULT_UI_PORT),
        task_queue=os.environ.get("IRP_TASK_QUEUE", TASK_QUEUE),
        policy_file=Path(os.environ["IRP_POLICY"]).expanduser() if os.environ.get("IRP_POLICY") else None,
        csaf_dir_override=Path(os.environ["IRP_CSAF_DIR"]).expanduser().resolve() if os.environ.get("IRP_CSAF_DIR") else None,
        csaf_base_url=os.environ.get("IRP_CSAF_BASE_URL", DEFAULT_CSAF_BASE_URL).rstrip("/"),
        publisher_name=os.environ.get("IRP_PUBLISHER_NAME", DEFAULT_PUBLISHER_NAME),
        publisher_namespace=os.environ.get("IRP_PUBLISHER_NAMESPACE", DEFAULT_PUBLISHER_NAMESPACE),
    )


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise InvalidSettings(f"{variable} is `{value}`; set it to a TCP port between 1 and 65535")
    return int(value)


def _check_address(address: str) -> None:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidSettings(f"TEMPORAL_ADDRESS is `{address}`; set it to HOST:PORT, such as 127.0.0.1:7233")
