"""Records made from issued bulletins: a bulletin's commended units get 通报表扬, its criticised units
通报批评, linked to the bulletin, once (issuing is announced by `chuangwen.bulletins.signals.bulletin_issued`,
sent on commit with `bulletin_id=`)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from .models import Kind, Record, Source

log = logging.getLogger(__name__)
SWEEP_DAYS = 30


def _bulletin_label(bulletin) -> str:
    number = getattr(bulletin, "number", "") or ""
    title = getattr(bulletin, "title", "") or str(bulletin)
    return f"{title}（{number}）" if number else title


@transaction.atomic
def records_from_bulletin(*, bulletin_id: int) -> list[Record]:
    """Create the bulletin's 通报表扬 / 通报批评 records that do not exist yet; returns those created."""
    from chuangwen.bulletins.models import Bulletin

    from .services import UNIT_KINDS, _create

    bulletin = Bulletin.objects.select_for_update().filter(pk=bulletin_id).first()
    if bulletin is None or bulletin.status != Bulletin.Status.ISSUED:
        return []
    issued = getattr(bulletin, "issued_at", None)
    day = timezone.localdate(issued) if issued else timezone.localdate()
    actor = getattr(bulletin, "issued_by", None)
    existing = set(Record.objects.filter(bulletin=bulletin).values_list("unit_id", "kind"))
    created = []
    label = _bulletin_label(bulletin)
    for kind, units in (
        (Kind.COMMEND, bulletin.commended.all()),
        (Kind.CRITICISE, bulletin.criticised.all()),
    ):
        verb = "通报表扬" if kind == Kind.COMMEND else "通报批评"
        for unit in units.order_by("path"):
            if (unit.pk, kind) in existing or unit.kind not in UNIT_KINDS:
                continue
            created.append(
                _create(
                    kind=kind,
                    unit=unit,
                    reason=f"{label}予以{verb}",
                    date=day,
                    actor=actor,
                    source=Source.BULLETIN,
                    bulletin=bulletin,
                    event_data={"bulletin_id": bulletin.pk, "bulletin": label},
                )
            )
    return created


def on_bulletin_issued(sender, bulletin_id: int, **kwargs) -> None:
    """Runs after the issuing transaction committed: a failure here must not turn the issue into an error
    page, so it is logged, and the worker's sweep (`sweep_bulletins`) makes the records later."""
    try:
        records_from_bulletin(bulletin_id=bulletin_id)
    except Exception:
        log.exception("accountability: records of bulletin %s not made; the sweep will retry", bulletin_id)


def sweep_bulletins(*, days: int = SWEEP_DAYS) -> int:
    """Make the missing records of bulletins issued in the last `days` days; returns how many were made."""
    from chuangwen.bulletins.models import Bulletin

    since = timezone.now() - dt.timedelta(days=days)
    ids = Bulletin.objects.filter(status=Bulletin.Status.ISSUED, issued_at__gte=since).values_list(
        "pk", flat=True
    )
    return sum(len(records_from_bulletin(bulletin_id=pk)) for pk in ids)


def connect() -> None:
    from chuangwen.bulletins.signals import bulletin_issued

    bulletin_issued.connect(on_bulletin_issued, dispatch_uid="accountability.bulletin_issued")
