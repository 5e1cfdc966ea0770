"""Fill the problem tally from the ledger's existing problems (reports.tally.rebuild, with the historical
models). Reversed by emptying it."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import migrations
from django.db.models import Count, Q

SHANGHAI = ZoneInfo("Asia/Shanghai")
VOID, CLOSED = "void", "closed"
WAITING_ON_SCHOOL = ("assigned", "in_progress")
FIELDS = ("problems", "open_problems", "closed", "waiting_timed")


def fill(apps, schema_editor):
    Problem = apps.get_model("ledger", "Problem")
    Campaign = apps.get_model("campaigns", "Campaign")
    ProblemTally = apps.get_model("reports", "ProblemTally")
    counts = {
        "problems": Count("pk", filter=~Q(status=VOID)),
        "open_problems": Count("pk", filter=~Q(status__in=(CLOSED, VOID))),
        "closed": Count("pk", filter=Q(status=CLOSED)),
        "waiting_timed": Count("pk", filter=Q(status__in=WAITING_ON_SCHOOL, deadline__isnull=False)),
    }
    rows = []
    grouped = (
        Problem.objects.filter(round__isnull=False)
        .order_by()
        .values("school_id", "round_id", "round__campaign_id")
        .annotate(**counts)
    )
    for r in grouped:
        values = {f: r[f] for f in FIELDS}
        rows.append(
            ProblemTally(
                campaign_id=r["round__campaign_id"],
                round_id=r["round_id"],
                school_id=r["school_id"],
                **values,
            )
        )
    for campaign in Campaign.objects.all():
        start = dt.datetime.combine(campaign.start_date, dt.time.min, tzinfo=SHANGHAI)
        end = dt.datetime.combine(campaign.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
        outside = (
            Problem.objects.filter(round__isnull=True, found_at__gte=start, found_at__lt=end)
            .order_by()
            .values("school_id")
            .annotate(**counts)
        )
        for r in outside:
            values = {f: r[f] for f in FIELDS}
            rows.append(
                ProblemTally(campaign_id=campaign.pk, round_id=None, school_id=r["school_id"], **values)
            )
    ProblemTally.objects.bulk_create(rows, batch_size=1000)


def empty(apps, schema_editor):
    apps.get_model("reports", "ProblemTally").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_problem_tally"),
        ("ledger", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill, empty)]
