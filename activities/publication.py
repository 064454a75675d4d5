"""Activities that publish an incident: the CSAF provider directory and the human-readable outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import formataddr
from urllib.parse import urlsplit

from temporalio import activity
from temporalio.exceptions import ApplicationError

from irp.csaf.build import NothingToPublish, build_vex
from irp.csaf.publish import (
    INITIAL_SUMMARY,
    PUBLIC_LABELS,
    TLP_FOLDERS,
    InvalidPublishedDocument,
    PublicationRefused,
    PublishResult,
    describe_changes,
    document_url,
    find_published,
    next_revision,
    publish,
    read_document,
    revision_history,
    same_content,
)
from irp.outputs import EmbargoInForce, render_outputs
from irp.settings import Settings
from models.incident import IncidentStatus
from models.publication import PublishCsafInput, PublishCsafResult
from models.steps import RenderInput, RenderResult

PUBLIC_FOLDERS = frozenset(TLP_FOLDERS[label] for label in PUBLIC_LABELS)


class PublicationActivities:
    """Publication steps, bound to one provider directory, output folder and publisher."""

    def __init__(self, settings: Settings) -> None:
        self.outputs_dir = settings.outputs_dir
        self.csaf_dir = settings.csaf_dir
        self.base_url = settings.csaf_base_url
        self.publisher_name = settings.publisher_name
        self.publisher_namespace = settings.publisher_namespace

    @activity.defn
    def render_outputs(self, step: RenderInput) -> RenderResult:
        """Render the Markdown and HTML advisory and the customer notification; reject an embargoed incident."""
        incident = step.incident
        try:
            paths = render_outputs(
                incident,
                self.outputs_dir,
                sender=self._sender(),
                publisher=self.publisher_name,
                advisory_url=self._published_url(incident.id),
            )
        except EmbargoInForce as error:
            raise ApplicationError(str(error), type="EmbargoInForce", non_retryable=True) from None
        except ValueError as error:
            raise ApplicationError(str(error), type="InvalidStepInput", non_retryable=True) from None
        activity.logger.info("incident %s: rendered %d outputs", incident.id, len(paths))
        return RenderResult(paths=paths)

    @activity.defn
    def publish_csaf(self, step: PublishCsafInput) -> PublishCsafResult:
        """Publish the incident's VEX document, bumping the version when its facts changed; a retry writes nothing."""
        incident = step.incident
        if incident.embargo.embargoed:
            message = f"incident {incident.id} is under embargo; its VEX document is published once the embargo lifts"
            raise ApplicationError(message, type="EmbargoInForce", non_retryable=True)

        try:
            result, already_published = self._publish(incident, step)
        except (PublicationRefused, InvalidPublishedDocument, NothingToPublish) as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from None
        except ValueError as error:
            raise ApplicationError(str(error), type="InvalidStepInput", non_retryable=True) from None

        activity.logger.info("incident %s: CSAF version %s at %s", incident.id, result.version, result.url)
        return PublishCsafResult(
            document_path=str(result.path),
            url=result.url,
            version=result.version,
            sha256=result.sha256,
            already_published=already_published,
        )

    def all(self) -> list:
        """Return every activity for the worker."""
        return [self.render_outputs, self.publish_csaf]

    def _publish(self, incident: IncidentStatus, step: PublishCsafInput) -> tuple[PublishResult, bool]:
        """Publish a new version unless the published document already states the incident's facts."""
        publisher = {
            "publisher_name": step.publisher_name or self.publisher_name,
            "publisher_namespace": step.publisher_namespace or self.publisher_namespace,
        }
        now = step.now or datetime.now(UTC)
        summary = INITIAL_SUMMARY

        previous_path = find_published(self.csaf_dir, incident.id)
        if previous_path is not None:
            previous = read_document(previous_path)
            history = revision_history(previous, previous_path)
            candidate = build_vex(incident, **publisher, revision_history=history, now=now)
            if same_content(candidate, previous):
                return publish(previous, self.csaf_dir, now=now, base_url=self.base_url), True
            summary = describe_changes(previous, candidate)

        history = next_revision(self.csaf_dir, incident.id, summary, now)
        document = build_vex(incident, **publisher, revision_history=history, now=now)
        return publish(document, self.csaf_dir, now=now, base_url=self.base_url), False

    def _sender(self) -> str:
        host = urlsplit(self.publisher_namespace).hostname or "localhost"
        return formataddr((self.publisher_name, f"psirt@{host}"))

    def _published_url(self, incident_id: str) -> str | None:
        path = find_published(self.csaf_dir, incident_id)
        if path is None or path.parent.parent.name not in PUBLIC_FOLDERS:
            return None
        return document_url(self.base_url, path.parent.parent.name, f"{path.parent.name}/{path.name}")
