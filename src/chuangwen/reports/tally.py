"""The problem tally (reports.ProblemTally, decision 0022): problem counts per school, campaign and round,
so the rankings and dashboards read ~1,000 small rows instead of counting every problem of a campaign.

The ledger stays the source of truth; the tally is derived from it and kept in step in the writer's own
transaction:

- a problem saved or deleted: its school's rows are counted again from that school's problems
  (`recount_school`: one grouped query for its rounds, one per campaign for the rest), after locking
  the school's row on PostgreSQL, so two transactions
  changing one school's problems count in turn and the later one sees the earlier one's commit;
- a campaign saved (created, or its dates changed): its rows for problems outside a round are counted
  again (`rebuild_outside`), since which of those belong to it depends on its dates;
- a round moved to another campaign: its rows are counted again (`rebuild_round`);
- a campaign, round or school deleted: their rows go with them (CASCADE).

Writes that bypass `save()` and `delete()` (bulk_create, QuerySet.update, raw SQL, a restored dump) must
call `rebuild()` after them, as the benchmark does after its bulk load; `verify()` compares the tally with
a fresh count and names the differences (`chuangwen manage problem_tally --verify`).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.signals import post_delete, post_save

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.campaigns.selectors import problems_in
from chuangwen.ledger.models import Problem, Status
from chuangwen.org.models import Unit

from .models import ProblemTally

WAITING_ON_SCHOOL = (Status.ASSIGNED, Status.IN_PROGRESS)
DONE = (Status.CLOSED, Status.VOID)
FIELDS = ("problems", "open_problems", "closed", "waiting_timed")
COUNTS = {
    "problems": Count("pk", filter=~Q(status=Status.VOID)),
    "open_problems": Count("pk", filter=~Q(status__in=DONE)),
    "closed": Count("pk", filter=Q(status=Status.CLOSED)),
    "waiting_timed": Count("pk", filter=Q(status__in=WAITING_ON_SCHOOL, deadline__isnull=False)),
}

Key = tuple[int, int | None, int]  # (campaign id, round id or None, school id)


def _save(counts: dict[Key, list[int]]) -> None:
    ProblemTally.objects.bulk_create(
        [
            ProblemTally(campaign_id=c, round_id=r, school_id=s, **dict(zip(FIELDS, n, strict=True)))
            for (c, r, s), n in counts.items()
        ],
        batch_size=1000,
    )


def recount_school(school_id: int) -> None:
    """Count one school's rows again from its problems (every campaign, every round)."""
    with transaction.atomic():
        # Serialises the recounts of one school on PostgreSQL (SQLite writers are serialised anyway).
        list(Unit.objects.select_for_update().filter(pk=school_id).values_list("pk"))
        counts = fresh_counts(school_id=school_id)
        ProblemTally.objects.filter(school_id=school_id).delete()
        _save(counts)


def _grouped(qs, key) -> dict[Key, list[int]]:
    return {
        key(r): [r[f] for f in FIELDS]
        for r in qs.order_by().values("school_id", "round_id", "round__campaign_id").annotate(**COUNTS)
    }


def _outside(campaign: Campaign, problems) -> dict[Key, list[int]]:
    """The campaign's rows for problems recorded outside a round: those on one of its days
    (campaigns.selectors.problems_in)."""
    qs = problems.filter(problems_in(campaign), round__isnull=True)
    return _grouped(qs, lambda r: (campaign.pk, None, r["school_id"]))


def rebuild_outside(campaign: Campaign) -> None:
    """Count again the campaign's rows for problems recorded outside a round (they belong to it by date)."""
    with transaction.atomic():
        counts = _outside(campaign, Problem.objects.all())
        ProblemTally.objects.filter(campaign_id=campaign.pk, round__isnull=True).delete()
        _save(counts)


def rebuild_round(round_id: int) -> None:
    with transaction.atomic():
        counts = _grouped(
            Problem.objects.filter(round_id=round_id),
            lambda r: (r["round__campaign_id"], r["round_id"], r["school_id"]),
        )
        ProblemTally.objects.filter(round_id=round_id).delete()
        _save(counts)


def fresh_counts(*, school_id: int | None = None) -> dict[Key, list[int]]:
    """Every row of the tally (or of one school) as counted now from the ledger (the definition the
    tally keeps): grouped by round, plus per campaign those recorded outside a round."""
    problems = Problem.objects.all() if school_id is None else Problem.objects.filter(school_id=school_id)
    counts = _grouped(
        problems.filter(round__isnull=False),
        lambda r: (r["round__campaign_id"], r["round_id"], r["school_id"]),
    )
    for campaign in Campaign.objects.order_by("pk"):
        counts |= _outside(campaign, problems)
    return counts


def rebuild() -> int:
    """Count every row again (after bulk writes); returns the number of rows."""
    with transaction.atomic():
        counts = fresh_counts()
        ProblemTally.objects.all().delete()
        _save(counts)
    return len(counts)


def verify() -> list[str]:
    """The rows where the tally differs from a fresh count (empty when in step)."""
    stored = {
        (t.campaign_id, t.round_id, t.school_id): [getattr(t, f) for f in FIELDS]
        for t in ProblemTally.objects.all()
    }
    fresh = fresh_counts()
    zero = [0, 0, 0, 0]
    keys = sorted(stored.keys() | fresh.keys(), key=lambda k: (k[0], k[1] or 0, k[2]))
    return [
        f"campaign {c} round {r or '-'} school {s}: tally {stored.get((c, r, s), zero)} "
        f"!= ledger {fresh.get((c, r, s), zero)}"
        for c, r, s in keys
        if stored.get((c, r, s), zero) != fresh.get((c, r, s), zero)
    ]


# --- receivers -------------------------------------------------------------------------------------


def _problem_changed(sender, instance, **kwargs) -> None:
    recount_school(instance.school_id)


def _campaign_saved(sender, instance, **kwargs) -> None:
    rebuild_outside(instance)


def _round_saved(sender, instance, created=False, **kwargs) -> None:
    if created:
        return
    if ProblemTally.objects.filter(round_id=instance.pk).exclude(campaign_id=instance.campaign_id).exists():
        rebuild_round(instance.pk)


def connect() -> None:
    post_save.connect(_problem_changed, sender=Problem, dispatch_uid="reports.tally.problem_saved")
    post_delete.connect(_problem_changed, sender=Problem, dispatch_uid="reports.tally.problem_deleted")
    post_save.connect(_campaign_saved, sender=Campaign, dispatch_uid="reports.tally.campaign_saved")
    post_save.connect(_round_saved, sender=Round, dispatch_uid="reports.tally.round_saved")
