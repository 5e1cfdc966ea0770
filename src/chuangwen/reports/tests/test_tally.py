"""The problem tally (reports.tally) stays equal to a fresh count of the ledger through the real services,
follows a campaign's dates, is repaired by `rebuild`, and the figures read from it equal those counted
from the ledger (test_figures checks them against the independent computation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chuangwen.campaigns.models import Campaign
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Problem, Status
from chuangwen.reports import figures, tally
from chuangwen.reports.models import ProblemTally

from .factories import build, close

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(city):
    return build(city)


def test_services_keep_the_tally_in_step(city, data):
    assert tally.verify() == []
    row = ProblemTally.objects.get(round=data.round1, school=city.school_a)
    # a_assigned, a_progress, a_review, three closed (void not counted); open: the first three
    assert (row.problems, row.open_problems, row.closed) == (6, 3, 3)
    assert row.waiting_timed == 2  # a_assigned and a_progress have deadlines
    outside = ProblemTally.objects.get(campaign=data.campaign, round=None, school=city.school_a)
    assert (outside.problems, outside.open_problems) == (1, 1)  # a_daily; a_before is before the campaign

    office = city.users[Role.OFFICE]
    close(data.problems["c_assigned"], teacher=city.outsider, office=office)
    ledger.problem_move(problem=data.problems["b_new"], code="void", actor=office, reason="重复登记")
    problem = ledger.problem_create(
        school=city.school_c,
        standard=data.setup.standards["1.2"],
        round_=data.round1,
        description="新问题",
        actor=city.users[Role.INSPECTOR],
    )
    assert tally.verify() == []
    at_c = ProblemTally.objects.get(round=data.round1, school=city.school_c)
    assert (at_c.problems, at_c.open_problems, at_c.closed) == (3, 2, 1)  # c_assigned closed, c_new, new
    assert ProblemTally.objects.get(round=data.round1, school=city.school_b).problems == 0

    Problem.objects.get(pk=problem.pk).delete()
    assert tally.verify() == []


def test_a_campaign_moved_to_earlier_dates_takes_the_problems_found_then(city, data):
    before = {f.school_id: f.problems for f in figures.school_figures(campaign=data.campaign)}
    campaign = Campaign.objects.get(pk=data.campaign.pk)
    campaign.start_date = dt.date(2026, 8, 1)  # a_before was found on 2026-08-31
    campaign.save()
    assert tally.verify() == []
    outside = ProblemTally.objects.get(campaign=campaign, round=None, school=city.school_a)
    assert outside.problems == 2
    rows = {f.school_id: f for f in figures.school_figures(campaign=campaign)}
    assert rows[city.school_a.pk].problems == before[city.school_a.pk] + 1
    assert rows[city.school_b.pk].problems == before[city.school_b.pk]


def test_figures_read_from_the_tally_equal_those_counted_from_the_ledger(city, data):
    """The tally path (every user of the city pages) against the ledger path (hide_embargoed, with no
    unannounced round in the data: the same problems), at several moments as deadlines pass."""
    for days in (0, 1, 3, 6, 30):
        now = timezone.now() + dt.timedelta(days=days)
        for round_ in (None, data.round1, data.round2):
            tallied = figures.school_figures(campaign=data.campaign, round=round_, now=now)
            counted = figures.school_figures(
                campaign=data.campaign, round=round_, now=now, hide_embargoed=True
            )
            assert tallied == counted, (days, round_)
    overdue_later = {f.school_id: f.overdue for f in figures.school_figures(campaign=data.campaign, now=now)}
    assert overdue_later[city.school_a.pk] >= 2  # a_assigned and a_progress at least, 30 days on


def test_writes_around_save_are_found_by_verify_and_repaired_by_rebuild(city, data):
    Problem.objects.filter(school=city.school_a, status=Status.CLOSED).update(status=Status.VOID)
    differences = tally.verify()
    assert len(differences) == 1 and f"school {city.school_a.pk}" in differences[0]
    with pytest.raises(CommandError, match="问题计数与台帐不一致：1 行"):
        call_command("problem_tally")
    call_command("problem_tally", "--rebuild")
    assert tally.verify() == []
    call_command("problem_tally")
    row = ProblemTally.objects.get(round=data.round1, school=city.school_a)
    assert (row.problems, row.closed) == (3, 0)
