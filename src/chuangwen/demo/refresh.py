"""`chuangwen demo --refresh` (run by `./run start`): the demo's lights stay as they were when it was loaded.

Lights are computed when viewed, from each problem's deadline and the clock. A demo database loaded on
Monday and started again the next week would show every open problem red: the ledger's story (a few
overdue, one due in three hours, a few with days to go) would be gone, although nobody did anything.

So on each start the demo's clock is moved on: the deadlines of the demo campaign's problems waiting on
the school (交办待签收 / 整改中), except 长期整改 ones, move forward by the time since the demo was loaded
or last refreshed; the red stay red (overdue by as long as they were), the yellow stay due in as many
hours. A problem whose deadline someone set since the demo was loaded (交办, 重新打开 or a correction, by
a person trying the demo) keeps it: that deadline is real. Nothing else moves: found, close and event
times stay where the loader put them, and a green light whose remaining time is under a quarter of its
(longer) window turns yellow — for the demo school's ten-day problem, after about four weeks.

Recorded openly: one `demo.refresh` audit event per refresh (from, to, hours, problem ids), the next
refresh counting from it. Idempotent: less than an hour since the last load or refresh changes nothing.
Only the demo touches the demo: refused outside demo mode (CHUANGWEN_DEMO), and done only to the campaign
the demo loader made (named CAMPAIGN_NAME, with its `demo.backdate` audit event).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from .city import DISABLED_MESSAGE, DemoDisabled
from .problems import CAMPAIGN_NAME

MIN_GAP = dt.timedelta(hours=1)


@dataclass
class RefreshReport:
    delta: dt.timedelta = dt.timedelta(0)  # how far the deadlines moved (0: nothing done)
    problems: list[int] = field(default_factory=list)
    reason: str = ""  # why nothing was done

    @property
    def changed(self) -> bool:
        return bool(self.problems)


def refresh_demo_clock(*, now: dt.datetime | None = None) -> RefreshReport:
    """Move the demo campaign's waiting deadlines forward by the time since its load or last refresh."""
    if not settings.CHUANGWEN_DEMO:
        raise DemoDisabled(DISABLED_MESSAGE)
    from chuangwen.campaigns.models import Campaign
    from chuangwen.core import audit
    from chuangwen.core.models import AuditEvent
    from chuangwen.ledger.models import Problem, ProblemEvent, Severity, Status

    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(name=CAMPAIGN_NAME).first()
        marks = AuditEvent.objects.filter(
            object_type="campaigns.campaign", object_id=str(campaign.pk if campaign else "")
        )
        loaded = marks.filter(event_type="demo.backdate").order_by("seq").first()
        if campaign is None or loaded is None:
            return RefreshReport(reason="没有演示数据载入的创建周期，未作改动")
        last = marks.filter(event_type__in=["demo.backdate", "demo.refresh"]).order_by("-seq").first()
        since = (
            dt.datetime.fromisoformat(last.data["to"])
            if last.event_type == "demo.refresh"
            else loaded.created_at
        )
        delta = now - since
        if delta < MIN_GAP:
            return RefreshReport(reason="距上次载入或刷新不足 1 小时，未作改动")
        deadline_set_since = ProblemEvent.objects.filter(
            Q(kind=ProblemEvent.Kind.MOVE, move__in=["assign", "reopen"]) | Q(kind=ProblemEvent.Kind.EDIT),
            problem=OuterRef("pk"),
            at__gt=loaded.created_at,
        )
        waiting = (
            Problem.objects.filter(
                round__campaign=campaign,
                status__in=[Status.ASSIGNED, Status.IN_PROGRESS],
                deadline__isnull=False,
            )
            .exclude(severity=Severity.LONG)
            .exclude(Exists(deadline_set_since))
        )
        ids = sorted(waiting.values_list("pk", flat=True))
        if not ids:
            return RefreshReport(reason="没有需要顺延整改时限的演示问题")
        Problem.objects.filter(pk__in=ids).update(deadline=F("deadline") + delta, updated_at=now)
        audit.record(
            "demo.refresh",
            username="chuangwen demo",
            obj=campaign,
            data={
                "note": "演示数据：未整改问题的整改时限顺延自上次载入或刷新以来的时间，红黄灯保持原样",
                "from": since.isoformat(),
                "to": now.isoformat(),
                "hours": round(delta.total_seconds() / 3600, 2),
                "problems": ids,
            },
        )
    return RefreshReport(delta=delta, problems=ids)
