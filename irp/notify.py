"""Send incident emails: by SMTP, or as .eml files in an outbox folder."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from irp.rendering import render, safe_file_name
from models.steps import NotificationInput, NotificationResult

SMTP_TIMEOUT = 30


def build_message(notification: NotificationInput) -> EmailMessage:
    """Build the email from the notification template."""
    message = EmailMessage()
    message["From"] = notification.notifications.sender
    message["To"] = ", ".join(notification.recipients)
    message["Subject"] = notification.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{safe_file_name(notification.key)}@irp>"
    message["X-Irp-Incident"] = notification.incident_id
    message["X-Irp-Kind"] = notification.kind
    message.set_content(render("notification.txt.j2", notification.model_dump()))
    return message


def send_notification(notification: NotificationInput, outbox: Path) -> NotificationResult:
    """Deliver the email once per key, by SMTP when configured, else into the outbox."""
    outbox.mkdir(parents=True, exist_ok=True)
    name = safe_file_name(notification.key)
    settings = notification.notifications

    if settings.smtp_host is None:
        path = outbox / f"{name}.eml"
        if path.exists():
            return NotificationResult(delivered_to=str(path), already_sent=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(build_message(notification)))
        temporary.replace(path)
        return NotificationResult(delivered_to=str(path))

    # NOTE: the sent marker lives on this worker's disk, so two workers without a
    # shared IRP_HOME could each send one copy if the first crashed after sending.
    marker = outbox / "sent" / name
    destination = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
    if marker.exists():
        return NotificationResult(delivered_to=destination, already_sent=True)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        smtp.send_message(build_message(notification))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(destination + "\n")
    return NotificationResult(delivered_to=destination)
