"""A campaign with figures worth checking, built through the real services.

Schools (on top of the `city` fixture's school_a/b/c):
- school_d: 小学 directly under the bureau (no district), vetoed in the second mock round;
- school_e: 初中 in district B, never inspected.

Rounds of one campaign: a self-check of school_a; mock round 1 over a, b, c; mock round 2 over a, d.
Scores: a 50-ish in round 1 then 100 in round 2 (the latest counts); b and c tie (competition rank
1, 2, 2, 4 with d vetoed last); e unranked. Problems: assigned (overdue once `now` is late), in progress,
pending review, closed (after different durations), void, one recorded outside any round inside the
campaign's dates, and one before the campaign (not counted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from chuangwen.campaigns import services as campaigns
from chuangwen.core.models import EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.inspections import services as inspections
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Problem
from chuangwen.ledger.tests.factories import make_setup, noisy_jpeg
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import SchoolFactory
from chuangwen.reports import tally

_photos = iter(range(1000, 100000))


@dataclass
class Figures:
    setup: object
    campaign: object
    self_round: object
    round1: object
    round2: object
    school_d: Unit
    school_e: Unit
    problems: dict = field(default_factory=dict)


def new_round(city, campaign, kind, name, schools):
    office = city.users[Role.OFFICE]
    round_ = campaigns.round_create(
        campaign=campaign,
        kind=kind,
        name=name,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        schools=schools,
        inspectors=[] if kind == "self" else [city.users[Role.INSPECTOR]],
        actor=office,
    )
    return campaigns.round_transition(round_=round_, to="in_progress", actor=office)


def inspect(setup, round_, school, actor, answers: dict, *, when: dt.datetime | None = None):
    """Score `school` in `round_` with {code: result or occurrences} and submit; `when` back-dates the
    submission (so which inspection is the latest does not depend on the test's speed)."""
    from chuangwen.inspections.models import Inspection

    inspection = inspections.inspection_start(round_=round_, school=school, actor=actor)
    for code, value in answers.items():
        kwargs = {"occurrences": value} if isinstance(value, int) else {"result": value}
        inspections.answer_save(inspection=inspection, standard=setup.standards[code], actor=actor, **kwargs)
    inspection = inspections.inspection_submit(inspection=inspection, actor=actor)
    if when is not None:
        Inspection.objects.filter(pk=inspection.pk).update(submitted_at=when)
    return inspection


def close(problem, *, teacher, office):
    ledger.problem_move(problem=problem, code="accept", actor=teacher)
    ledger.problem_add_photo(
        problem=problem, file=noisy_jpeg(next(_photos)), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
    )
    ledger.problem_move(problem=problem, code="submit", actor=teacher, cause="原因", measures="措施")
    return ledger.problem_move(problem=problem, code="approve", actor=office, note="已整改")


def build(city) -> Figures:
    setup = make_setup(city)  # its own round (over a and c) stays without inspections
    campaign = setup.campaign
    office, inspector = city.users[Role.OFFICE], city.users[Role.INSPECTOR]
    teacher, head = city.users[Role.TEACHER], city.users[Role.SCHOOL_HEAD]
    school_d = SchoolFactory(parent=city.bureau, name="市直实验小学")
    school_e = SchoolFactory(
        parent=city.district_b, name="西区第三初级中学", school_type=Unit.SchoolType.JUNIOR
    )
    base = timezone.now() - dt.timedelta(days=20)

    self_round = new_round(city, campaign, "self", "学校自查", [city.school_a])
    round1 = new_round(
        city, campaign, "mock", "第一次模拟测评", [city.school_a, city.school_b, city.school_c]
    )
    round2 = new_round(city, campaign, "mock", "第二次模拟测评", [city.school_a, school_d])

    inspect(
        setup,
        self_round,
        city.school_a,
        head,
        {"1.1": "基本达标", "1.2": "合格", "1.3": 0, "1.4": "合格"},
        when=base,
    )
    ins_a1 = inspect(
        setup,
        round1,
        city.school_a,
        inspector,
        {"1.1": "不达标", "1.2": "不合格", "1.3": 1, "1.4": "合格"},
        when=base + dt.timedelta(days=1),
    )
    tie = {"1.1": "基本达标", "1.2": "合格", "1.3": 2, "1.4": "合格"}
    inspect(setup, round1, city.school_b, inspector, tie, when=base + dt.timedelta(days=1))
    inspect(setup, round1, city.school_c, inspector, tie, when=base + dt.timedelta(days=2))
    inspect(
        setup,
        round2,
        city.school_a,
        inspector,
        {"1.1": "达标", "1.2": "不适用", "1.3": 0, "1.4": "合格"},
        when=base + dt.timedelta(days=5),
    )
    inspect(
        setup,
        round2,
        school_d,
        inspector,
        {"1.1": "达标", "1.2": "合格", "1.3": 3, "1.4": "不合格"},
        when=base + dt.timedelta(days=5),
    )

    std = setup.standards
    p = {}

    def problem(key, school, code, round_, **kwargs):
        p[key] = ledger.problem_create(
            school=school,
            standard=std[code],
            round_=round_,
            description=f"问题{key}",
            actor=inspector,
            **kwargs,
        )
        return p[key]

    problem("a_assigned", city.school_a, "1.1", round1, severity="days", deadline_days=2)
    problem("a_progress", city.school_a, "1.2", round1, severity="days", deadline_days=5)
    ledger.problem_move(problem=p["a_progress"], code="accept", actor=teacher)
    problem("a_review", city.school_a, "1.3", round1)
    ledger.problem_move(problem=p["a_review"], code="accept", actor=teacher)
    ledger.problem_add_photo(
        problem=p["a_review"],
        file=noisy_jpeg(next(_photos)),
        purpose=EvidencePhoto.Purpose.AFTER,
        actor=teacher,
    )
    ledger.problem_move(problem=p["a_review"], code="submit", actor=teacher, cause="原因", measures="措施")
    for key, days in (("a_closed1", 2), ("a_closed2", 5), ("a_closed3", 9)):
        p[key] = close(problem(key, city.school_a, "1.1", round1), teacher=teacher, office=office)
        Problem.objects.filter(pk=p[key].pk).update(
            found_at=p[key].closed_at - dt.timedelta(days=days, hours=3)
        )
    problem("a_void", city.school_a, "1.2", round1)
    ledger.problem_move(problem=p["a_void"], code="void", actor=office, reason="重复登记")
    problem(
        "c_assigned",
        city.school_c,
        "1.3",
        round1,
        responsible=city.outsider,
        severity="days",
        deadline_days=1,
    )
    problem("c_new", city.school_c, "1.1", round1)  # nobody owns 1.1 at school_c: stays 待交办
    problem("b_new", city.school_b, "1.3", round1)
    problem("d_assigned", school_d, "1.4", round2, responsible=office)
    p["a_daily"] = ledger.problem_create(
        school=city.school_a, standard=std["1.1"], source="daily", description="日常检查发现", actor=office
    )
    p["a_before"] = ledger.problem_create(
        school=city.school_a, standard=std["1.1"], source="daily", description="周期开始前", actor=office
    )
    Problem.objects.filter(pk=p["a_before"].pk).update(
        found_at=dt.datetime(2026, 8, 31, 12, tzinfo=dt.UTC)  # before the campaign's 2026-09-01
    )
    tally.recount_school(city.school_a.pk)  # update() bypasses the tally's receivers (see reports.tally)
    assert ins_a1.score is not None
    return Figures(setup, campaign, self_round, round1, round2, school_d, school_e, p)
