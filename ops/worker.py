"""`python app.py worker [--concurrency N]`: a standalone batch worker.

It builds the same services as the web process (with no in-process batch workers) and
lets procrastinate hand it chunks of any job, from any replica; run as many as you like,
on any machine that reaches the database. SIGTERM (or Ctrl+C) lets its chunks finish for
a few seconds, hands back the rest and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from typing import TextIO

from errors import ConfigError
from settings import Settings

logger = logging.getLogger("sentiscope.worker")

NEEDS_POSTGRES = (
    "A standalone worker needs PostgreSQL: it takes batch chunks from the job queue that "
    "procrastinate keeps in the database, which SQLite (development mode) cannot share "
    "between processes. In development mode the web process scores batches itself (its "
    "BATCH_WORKERS threads, 1 by default), so no worker is needed. To run workers, set "
    "DATABASE_URL to a PostgreSQL database (and the same SECRET_KEY) for the web "
    "processes and every worker."
)
NICENESS = 5  # on a shared machine interactive requests of the web process go first


def run_worker(settings: Settings, concurrency: int, out: TextIO) -> int:
    if not settings.is_production:
        raise ConfigError(NEEDS_POSTGRES)
    from batch.procrastinate_engine import run_worker as work_forever
    from services import build_services

    with contextlib.suppress(OSError):  # not allowed here: run at the normal priority
        os.nice(NICENESS)
    services = build_services(settings.model_copy(update={"BATCH_WORKERS": 0}))
    logger.info("Batch worker ready (concurrency %d, pid %d)", concurrency, os.getpid())
    try:
        asyncio.run(
            work_forever(
                services.db.url, services.batches.work, concurrency, install_signal_handlers=True
            )
        )
    finally:
        services.close()
    out.write("Batch worker stopped.\n")
    out.flush()
    sys.stderr.flush()
    # Everything is closed and handed back; skip the interpreter's teardown of the native
    # libraries (seconds with torch and ONNX Runtime loaded), so SIGTERM ends us promptly.
    os._exit(0)
