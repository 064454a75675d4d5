"""Settings read from the environment, in one object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TASK_QUEUE = "irp"
DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
DEFAULT_UI_PORT = 8233


@dataclass(frozen=True)
class Settings:
    """Where irp keeps its state and how it reaches Temporal."""

    home: Path
    database_url: str
    temporal_address: str
    temporal_namespace: str
    ui_port: int
    task_queue: str
    policy_file: Path | None = None

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
    def temporal_db(self) -> Path:
        """SQLite file of the embedded Temporal dev server."""
        return self.home / "temporal.db"


def load_settings() -> Settings:
    """Read the settings from `IRP_*` and `TEMPORAL_*` environment variables."""
    home = Path(os.environ.get("IRP_HOME", ".irp")).expanduser().resolve()
    database_url = os.environ.get("IRP_DATABASE_URL") or f"sqlite:///{home / 'irp.db'}"
    return Settings(
        home=home,
        database_url=database_url,
        temporal_address=os.environ.get("TEMPORAL_ADDRESS", DEFAULT_ADDRESS),
        temporal_namespace=os.environ.get("TEMPORAL_NAMESPACE", DEFAULT_NAMESPACE),
        ui_port=int(os.environ.get("IRP_UI_PORT", DEFAULT_UI_PORT)),
        task_queue=os.environ.get("IRP_TASK_QUEUE", TASK_QUEUE),
        policy_file=Path(os.environ["IRP_POLICY"]).expanduser() if os.environ.get("IRP_POLICY") else None,
    )
