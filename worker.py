"""Run the irp worker: `python worker.py` or `irp worker`."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.incident import IncidentActivities
from irp.client import connect
from irp.db import create_schema, engine_for
from irp.policy import InvalidPolicy, load_policy
from irp.settings import Settings, load_settings
from workflows.incident import IncidentWorkflow

ACTIVITY_THREADS = 16


def build_worker(client: Client, settings: Settings, **options) -> Worker:
    """Build a worker for the incident workflow and its activities; refuse an invalid policy."""
    load_policy(settings.policy_file)
    create_schema(engine_for(settings.database_url))
    settings.outputs_dir.mkdir(parents=True, exist_ok=True)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow],
        activities=IncidentActivities(settings).all(),
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS),
        **options,
    )


async def run_worker(settings: Settings) -> None:
    """Connect to Temporal and poll the task queue until cancelled."""
    client = await connect(settings)
    worker = build_worker(client, settings)
    logging.getLogger(__name__).info(
        "worker polling %s on %s/%s", settings.task_queue, settings.temporal_address, settings.temporal_namespace
    )
    await worker.run()


def main() -> None:
    """Run the worker until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run_worker(load_settings()))
    except InvalidPolicy as error:
        logging.getLogger(__name__).error("the worker does not start: %s", error)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
