"""The worker side: claim due outbox rows, send them, record every attempt, retry with backoff.

A row is claimed by one conditional UPDATE (status pending/failed and due → sending, claimed_by=me); the
row count says whether this worker won, so two workers never send the same message. The send happens
outside any transaction. A worker that dies mid-send leaves the row 'sending'; after
NOTIFY_STALE_CLAIM_SECONDS it returns to the queue (at-least-once: the receiver may then see it twice,
which is why webhooks carry the X-Chuangwen-Delivery id).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from . import channels
from .models import DeliveryAttempt, Outbox

logger = logging.getLogger(__name__)

DEFAULT_BACKOFF = (30, 120, 600, 3600, 6 * 3600)
DUE = (Outbox.Status.PENDING, Outbox.Status.FAILED)


def backoff() -> tuple[int, ...]:
    return tuple(getattr(settings, "NOTIFY_BACKOFF_SECONDS", DEFAULT_BACKOFF))


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", len(backoff()) + 1))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{uuid.uuid4().hex[:6]}"


def claim(pk: int, worker: str) -> bool:
    """Take the row for this worker if it is still due and unclaimed; True if this worker won."""
    now = timezone.now()
    won = Outbox.objects.filter(pk=pk, status__in=DUE, next_attempt_at__lte=now).update(
        status=Outbox.Status.SENDING,
        claimed_by=worker,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    return won == 1


def _send_claimed(pk: int, worker: str) -> bool:
    message = Outbox.objects.select_related("config").get(pk=pk)
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = channels.send(message)
    except channels.DeliveryError as exc:
        status_code, error = exc.status_code, str(exc)
    except Exception as exc:  # a bug in a sender must not kill the worker loop
        logger.exception("notify: sender crashed on outbox %s", pk)
        error = f"内部错误：{type(exc).__name__}"
    duration = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    DeliveryAttempt.objects.create(
        outbox_id=pk,
        created_at=now,
        worker=worker[:100],
        success=not error,
        status_code=status_code,
        error=error[:1000],
        duration_ms=duration,
    )
    mine = Outbox.objects.filter(pk=pk, status=Outbox.Status.SENDING, claimed_by=worker)
    if not error:
        mine.update(status=Outbox.Status.SENT, sent_at=now, last_error="", updated_at=now)
        return True
    attempts = message.attempts  # already counted by the claim
    if attempts >= max_attempts():
        mine.update(status=Outbox.Status.DEAD, last_error=error[:1000], updated_at=now)
        logger.warning("notify: outbox %s dead after %s attempts: %s", pk, attempts, error)
    else:
        steps = backoff()
        delay = steps[min(attempts - 1, len(steps) - 1)]
        mine.update(
            status=Outbox.Status.FAILED,
            last_error=error[:1000],
            next_attempt_at=now + dt.timedelta(seconds=delay),
            updated_at=now,
        )
        logger.info("notify: outbox %s attempt %s failed (%s), retry in %ss", pk, attempts, error, delay)
    return False


def deliver(pks, *, worker: str | None = None) -> int:
    """Claim and send each of these rows that is due; returns how many this worker sent."""
    worker = worker or worker_id()
    sent = 0
    for pk in pks:
        if claim(pk, worker):
            sent += _send_claimed(pk, worker)
    return sent


def release_stale() -> int:
    """Return 'sending' rows whose worker has been silent too long to the queue."""
    limit = timezone.now() - dt.timedelta(seconds=int(getattr(settings, "NOTIFY_STALE_CLAIM_SECONDS", 600)))
    return Outbox.objects.filter(status=Outbox.Status.SENDING, claimed_at__lt=limit).update(
        status=Outbox.Status.FAILED, claimed_by="", last_error="领取超时，重新排队", updated_at=timezone.now()
    )


def sweep(*, worker: str | None = None, batch: int = 100) -> int:
    """The safety net: release stale claims, then send whatever is due (oldest first)."""
    release_stale()
    due = list(
        Outbox.objects.filter(status__in=DUE, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    return deliver(due, worker=worker)


class SweepThread(threading.Thread):
    """Runs sweep() every NOTIFY_SWEEP_INTERVAL seconds beside the task worker (see decision 0010)."""

    def __init__(self, interval: float | None = None):
        super().__init__(name="notify-sweep", daemon=True)
        self.interval = interval or float(getattr(settings, "NOTIFY_SWEEP_INTERVAL", 5))
        self.stopping = threading.Event()
        self.worker = f"sweep-{worker_id()}"

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                sweep(worker=self.worker)
            except Exception:
                logger.exception("notify: sweep failed")
            finally:
                close_old_connections()
            self.stopping.wait(self.interval)
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
