"""The demo city's campaign in progress: rounds of every kind, scored inspections and a problem ledger.

On the reference edition, one 创建周期 with
- a finished 自查 over every school (the demo school and the second school submitted theirs);
- a finished 模拟测评 over a stratified sample of 30 schools (the seed is chosen so both demo schools are
  drawn), every applicable standard answered with seeded results: mostly 达标, some 基本达标/不达标,
  now and then a deduction, rarely a failed negative-list item (一票否决);
- the problems found there in every state: 已销号 after re-check (with an after photo), 待复核, 整改中,
  已交办, one 已作废, one reopened, one 长期整改 with milestones, some overdue;
- an 暗访督查 in progress with the demo inspector assigned: three schools done (the demo school among
  them, so its staff see it), one inspection under way with a problem held back, the rest still to visit;
- a planned 跟踪督查 of the mock round's unfinished problems.

Everything goes through the campaigns, inspections and ledger services, so every answer, problem and move
is in the audit chain with its ProblemEvent and notifications. A problem's life is then moved back in
time to when the round happened (see `_backdate`): its found/assigned/… times, its events and its
inspection, never an audit event; one `demo.backdate` audit event records each shift. So overdue (red)
and nearly due (yellow) problems exist on a fresh install. See docs/decisions/0013-demo-data.md.

Idempotent: the campaign is created once, by name; a second run finds it and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from . import timeline
from .city import DEMO_SCHOOL, SECOND_SCHOOL, SEED

CAMPAIGN_NAME = "清河市教育系统创建全国文明城市攻坚周期"
MOCK_SAMPLE = 30
UNANNOUNCED_SCHOOLS = 12
PROBLEMS_PER_SCHOOL = 3  # of a mock-round school's lost answers; the two demo schools get all of theirs (≤ 8)
DEMO_SCHOOL_PROBLEMS = 8

# Seeded result weights, per scoring kind.
GRADE_WEIGHTS = (("达标", 86), ("基本达标", 10), ("不达标", 4))
# The two demo schools were checked harder, so their staff have enough problems to see every state.
STRICT_GRADE_WEIGHTS = (("达标", 72), ("基本达标", 20), ("不达标", 8))
PASS_WEIGHTS = (("合格", 95), ("不合格", 5))
# What became of a mock-round problem (other schools) in the five to seven weeks since: weights. About
# two in three closed (the city's 整改率), a few never even accepted.
FATES = (("closed", 68), ("pending_review", 10), ("in_progress", 12), ("assigned", 6), ("reopened", 4))
DESCRIPTIONS = {
    "不达标": "{text}：未落实，现场未见相关设施或资料",
    "基本达标": "{text}：基本落实，但存在不足，需进一步完善",
    "不合格": "{text}：现场检查不合格",
    "deduction": "{text}：现场发现 {n} 处问题",
}
LOCATIONS = ("校门口", "教学楼一楼走廊", "操场东侧", "食堂后厨", "宣传栏", "厕所", "围墙外侧", "办公楼大厅")
CAUSES = ("日常巡查不到位，责任未落实到人", "宣传品老化未及时更换", "保洁人员排班不足", "资料归档不及时")
MEASURES = (
    "已安排专人整改并纳入每日巡查",
    "已重新制作并张贴",
    "调整保洁排班，增加巡查频次",
    "已补齐资料并归档",
)


@dataclass
class ProblemsReport:
    created: bool = False
    campaign: str = ""
    rounds: int = 0
    inspections: int = 0
    answers: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return self.created


def _photo(rng: random.Random, name: str = "after.jpg"):
    """A small photo with seeded random content (each one different, so no reuse warnings)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    img = Image.new("RGB", (120, 90))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(120 * 90)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _result(rng: random.Random, standard, *, strict: bool = False) -> tuple[str, int]:
    """(result, occurrences) of one standard, seeded."""
    from chuangwen.index.models import ScoringKind

    if standard.negative_list:
        return "合格", 0  # a failure (一票否决) is rare: one chosen school, see _inspect(veto=True)
    if standard.scoring_kind == ScoringKind.DEDUCTION:
        return "", rng.choices((0, 1, 2), weights=(85, 11, 4))[0]
    if standard.scoring_kind == ScoringKind.PASS_FAIL:
        return _pick(rng, PASS_WEIGHTS), 0
    return _pick(rng, STRICT_GRADE_WEIGHTS if strict else GRADE_WEIGHTS), 0


def _inspect(
    rng, *, round_, school, actor, standards=None, partial=False, submit=True, veto=False, strict=False
):
    """Score the school (every applicable standard, or `standards`) through the services; with `veto`,
    its first negative-list item fails."""
    from chuangwen.inspections import services as inspections

    inspection = inspections.inspection_start(round_=round_, school=school, actor=actor)
    answers = []
    for standard in standards or inspections.applicable_standards(round_, school):
        result, occurrences = _result(rng, standard, strict=strict)
        if veto and standard.negative_list:
            result, veto = "不合格", False
        answers.append(
            inspections.answer_save(
                inspection=inspection, standard=standard, result=result, occurrences=occurrences, actor=actor
            )
        )
    if submit:
        inspection = inspections.inspection_submit(inspection=inspection, actor=actor, partial=partial)
    return inspection, answers


def _describe(answer) -> str:
    text = answer.standard.text.strip().rstrip("。；;")[:60]
    if answer.result:
        return DESCRIPTIONS.get(answer.result, DESCRIPTIONS["不达标"]).format(text=text)
    return DESCRIPTIONS["deduction"].format(text=text, n=answer.occurrences)


def _record(rng, answer, *, actor, severity="days", deadline_days=None, target_date=None, milestones=()):
    from chuangwen.ledger.services import problem_create

    inspection = answer.inspection
    return problem_create(
        school=inspection.school,
        description=_describe(answer),
        location=rng.choice(LOCATIONS),
        inspection=inspection,
        answer=answer,
        severity=severity,
        deadline_days=deadline_days if severity == "days" else None,
        target_date=target_date,
        milestones=milestones,
        actor=actor,
    )


def _live(problem, fate: str, *, rng, reviewer, office):
    """Move a freshly assigned problem through the workflow to `fate`, as the school and the bureau would."""
    from chuangwen.core.models import EvidencePhoto
    from chuangwen.ledger.services import problem_add_photo, problem_move

    if fate == "void":
        return problem_move(problem=problem, code="void", reason="与本轮另一条问题重复登记", actor=office)
    if fate == "assigned":
        return problem
    school_side = problem.responsible
    problem = problem_move(problem=problem, code="accept", actor=school_side)
    if fate == "in_progress":
        return problem
    rejected = fate == "in_progress_rejected"

    def submit(p):
        problem_add_photo(problem=p, file=_photo(rng), purpose=EvidencePhoto.Purpose.AFTER, actor=school_side)
        return problem_move(
            problem=p,
            code="submit",
            cause=rng.choice(CAUSES),
            measures=rng.choice(MEASURES),
            actor=school_side,
        )

    problem = submit(problem)
    if fate == "pending_review":
        return problem
    if rejected:
        return problem_move(
            problem=problem, code="reject", reason="整改后照片不清晰，未见整改效果，请补充", actor=reviewer
        )
    problem = problem_move(problem=problem, code="approve", note="现场复核已整改到位", actor=reviewer)
    if fate == "reopened":
        problem = problem_move(
            problem=problem, code="reopen", reason="跟踪检查发现问题反弹，重新整改", actor=reviewer
        )
    return problem


def _backdate(*, problems, inspections, delta: dt.timedelta, label: str) -> dict:
    """Move a block of history (an inspection and the problems found in it) back by `delta`.

    Only facts the services would have recorded at that time move: the inspection's and answers' times,
    the problems' times, their events. Audit events keep the moment they were really written; the shift
    itself is recorded once in the caller's `demo.backdate` event.
    """
    from django.db.models import F

    from chuangwen.inspections.models import Answer, Inspection
    from chuangwen.ledger.models import Problem, ProblemEvent

    ids = [p.pk for p in problems]
    inspection_ids = [i.pk for i in inspections]
    Inspection.objects.filter(pk__in=inspection_ids).update(
        created_at=F("created_at") - delta, updated_at=F("updated_at") - delta
    )
    Inspection.objects.filter(pk__in=inspection_ids, submitted_at__isnull=False).update(
        submitted_at=F("submitted_at") - delta
    )
    Answer.objects.filter(inspection_id__in=inspection_ids).update(
        answered_at=F("answered_at") - delta, created_at=F("created_at") - delta
    )
    qs = Problem.objects.filter(pk__in=ids)
    qs.update(found_at=F("found_at") - delta, created_at=F("created_at") - delta)
    for name in ("assigned_at", "accepted_at", "submitted_at", "rechecked_at", "closed_at", "deadline"):
        qs.filter(**{f"{name}__isnull": False}).update(**{name: F(name) - delta})
    ProblemEvent.objects.filter(problem_id__in=ids).update(at=F("at") - delta)
    return {"label": label, "days": round(delta.total_seconds() / 86400, 2), "problems": ids}


def _retime_mock(mock, inspections, recorded, lived, *, rng, now) -> dict:
    """Move the mock round's inspections to their visits over the round's working days, and give its
    problems (`lived`, in the order `recorded` as (school, problem)) their histories from those visits."""
    from chuangwen.inspections.models import Inspection

    visits = timeline.visit_times(mock.start_date, mock.end_date, len(inspections), rng)
    submitted = dict(
        Inspection.objects.filter(pk__in=[i.pk for i in inspections]).values_list("pk", "submitted_at")
    )
    visit_of = {}
    for inspection, visit in zip(inspections, visits, strict=True):
        done = visit + dt.timedelta(minutes=timeline.VISIT_MINUTES)
        _backdate(problems=[], inspections=[inspection], delta=submitted[inspection.pk] - done, label="")
        Inspection.objects.filter(pk=inspection.pk).update(created_at=visit)
        visit_of[inspection.school_id] = done
    moved, per_school = [], {}
    for (school, _), problem in zip(recorded, lived, strict=True):
        n = per_school[school.pk] = per_school.get(school.pk, -1) + 1
        found = visit_of[school.pk] + dt.timedelta(minutes=1 + 3 * n)
        moved.append(timeline.retime_problem(problem, found=found, rng=rng, now=now))
    days = [round(d.total_seconds() / 86400, 2) for d in moved]
    return {
        "label": "模拟测评",
        "days": [min(days), max(days)],
        "problems": [p.pk for p in lived],
        "note": "各校检查移到测评期间的工作日；各问题按其整改进程重排时间（签收、整改、复核、销号）",
    }


def _sample_seed(population, must: set[int]) -> int:
    """The first seed from SEED whose stratified draw contains every school in `must` (reproducible)."""
    from chuangwen.campaigns import sampling

    for seed in range(SEED, SEED + 5000):
        if must <= {s.pk for s in sampling.draw(population, MOCK_SAMPLE, seed).schools}:
            return seed
    return SEED


def build_demo_problems(*, seed: int = SEED) -> ProblemsReport:
    from chuangwen.accounts.models import User
    from chuangwen.campaigns import services as campaigns
    from chuangwen.campaigns.models import Campaign, Round
    from chuangwen.core import audit
    from chuangwen.index.models import Edition
    from chuangwen.ledger.models import Problem, Severity
    from chuangwen.org.models import Unit

    report = ProblemsReport(campaign=CAMPAIGN_NAME)
    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return report
    started = time.monotonic()
    rng = random.Random(seed + 4)  # noqa: S311 (demo results, not secrets)
    times = random.Random(seed + 5)  # noqa: S311 (severities and times, apart so the results stay as they were)
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["office", "inspector", "principal", "liaison2"])
    }
    office, inspector = users["office"], users["inspector"]
    edition = Edition.objects.get(code="ref-2026")
    schools = list(Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True).order_by("code"))
    demo = next(s for s in schools if s.name == DEMO_SCHOOL)
    second = next(s for s in schools if s.name == SECOND_SCHOOL)
    today = timezone.localdate()
    now = timezone.now()
    shifts = []

    with transaction.atomic():
        campaign = campaigns.campaign_create(
            name=CAMPAIGN_NAME,
            edition=edition,
            start_date=today - dt.timedelta(days=80),
            end_date=today + dt.timedelta(days=220),
            actor=office,
        )

        def new_round(kind, name, start, end, **kwargs):
            round_ = campaigns.round_create(
                campaign=campaign,
                kind=kind,
                name=name,
                start_date=today + dt.timedelta(days=start),
                end_date=today + dt.timedelta(days=end),
                actor=office,
                **kwargs,
            )
            return campaigns.round_transition(round_=round_, to=Round.Status.IN_PROGRESS, actor=office)

        # 1. 自查 over every school; the demo school and the second school submitted theirs.
        self_round = new_round(Round.Kind.SELF, "第一轮学校全面自查", -75, -61, schools=schools)
        done = []
        for school, actor in ((demo, users["principal"]), (second, users["liaison2"])):
            inspection, answers = _inspect(rng, round_=self_round, school=school, actor=actor)
            done.append(inspection)
            report.answers += len(answers)
        campaigns.round_transition(round_=self_round, to=Round.Status.FINISHED, actor=office)
        shifts.append(_backdate(problems=[], inspections=done, delta=dt.timedelta(days=65), label="自查"))

        # 2. 模拟测评 over a stratified sample of 30 schools, all submitted, then its problems.
        seed_used = _sample_seed(schools, {demo.pk, second.pk})
        mock = new_round(
            Round.Kind.MOCK,
            "第一次模拟测评",
            -45,
            -38,
            sample_size=MOCK_SAMPLE,
            sample_seed=seed_used,
            sample_population=schools,
            inspectors=[inspector, office],
        )
        mock_schools = list(mock.schools.order_by("path"))
        mock_problems = []
        mock_inspections = []
        vetoed = next(s for s in reversed(mock_schools) if s.pk not in (demo.pk, second.pk))
        for school in mock_schools:
            inspection, answers = _inspect(
                rng,
                round_=mock,
                school=school,
                actor=inspector,
                veto=school.pk == vetoed.pk,
                strict=school.pk in (demo.pk, second.pk),
            )
            mock_inspections.append(inspection)
            report.answers += len(answers)
            lost = [a for a in answers if a.lost]
            if school.pk == vetoed.pk:  # the veto item first, then others
                lost.sort(key=lambda a: not a.standard.negative_list)
                lost = lost[:PROBLEMS_PER_SCHOOL]
            elif school.pk in (demo.pk, second.pk):
                lost = [a for a in lost if not a.standard.negative_list][:DEMO_SCHOOL_PROBLEMS]
            else:
                lost = rng.sample(lost, min(PROBLEMS_PER_SCHOOL, len(lost)))
            for answer in lost:
                severity = "immediate" if times.random() < timeline.IMMEDIATE_SHARE else "days"
                days = rng.choice((3, 5))
                mock_problems.append(
                    (school, _record(rng, answer, actor=inspector, severity=severity, deadline_days=days))
                )
        campaigns.round_transition(round_=mock, to=Round.Status.FINISHED, actor=office)
        report.inspections += len(mock_inspections) + len(done)

        # Fates: the demo school's are fixed so its staff see every state; the others are seeded.
        demo_fates = [  # assigned and in_progress are overdue (red) once moved back to the mock round
            "assigned",
            "in_progress",
            "void",
            "closed",
            "pending_review",
            "reopened",
            "closed",
            "closed",
        ]
        lived = []
        per_school: dict[int, int] = {}
        for school, problem in mock_problems:
            n = per_school.get(school.pk, 0)
            per_school[school.pk] = n + 1
            if school.pk == demo.pk:
                fate = demo_fates[n % len(demo_fates)]
            elif school.pk == second.pk:
                fate = ("in_progress_rejected", "closed", "pending_review", "assigned")[n % 4]
            else:
                fate = _pick(rng, FATES)
            lived.append(_live(problem, fate, rng=rng, reviewer=inspector, office=office))
        # The mock round was five to seven weeks ago: each school's inspection moves to its visit, and each
        # problem found there is given the history of its fate from then on (timeline.retime_problem).
        shifts.append(_retime_mock(mock, mock_inspections, mock_problems, lived, rng=times, now=now))

        # A long-term rectification with milestones, planned by the office after the mock round.
        from chuangwen.ledger.services import milestone_done, problem_create, problem_move

        demo_mock = next(i for i in mock_inspections if i.school_id == demo.pk)
        answers = demo_mock.answers.select_related("standard")
        room = answers.filter(standard__text__contains="心理咨询室").first() or answers.first()
        long_problem = problem_create(
            school=demo,
            standard=room.standard,
            round_=mock,
            description="心理咨询室面积不足、设施不全，需改造教学楼三楼闲置教室",
            location="教学楼三楼",
            severity=Severity.LONG,
            target_date=today + dt.timedelta(days=120),
            milestones=(
                ("完成场地改造方案并报批", today - dt.timedelta(days=5)),
                ("完成招标", today + dt.timedelta(days=30)),
                ("施工完成并验收", today + dt.timedelta(days=110)),
            ),
            actor=office,
        )
        problem_move(problem=long_problem, code="accept", actor=long_problem.responsible)
        milestone_done(
            milestone=long_problem.milestones.order_by("due_date").first(), actor=long_problem.responsible
        )
        lived.append(long_problem)

        # 3. 暗访督查 in progress: the inspector has done three schools (the demo school a few days ago), is
        # in the middle of a fourth (its problem held back), and has the rest still to visit.
        others = [s for s in schools if s.pk not in {demo.pk, second.pk} and s.school_type == "primary"]
        visit = [demo, *rng.sample(others, UNANNOUNCED_SCHOOLS - 1)]
        unannounced = new_round(
            Round.Kind.UNANNOUNCED, "第四季度暗访督查", -10, 20, schools=visit, inspectors=[inspector]
        )
        from chuangwen.inspections.services import applicable_standards

        spot = [s for s in applicable_standards(unannounced, demo) if not s.negative_list][:12]
        from chuangwen.inspections.services import inspection_submit

        for position, school in enumerate(visit[:4]):
            # The inspector records problems as they go; they are held until the inspection is submitted.
            inspection, answers = _inspect(
                rng, round_=unannounced, school=school, actor=inspector, standards=spot, submit=False
            )
            report.inspections += 1
            report.answers += len(answers)
            lost = [a for a in answers if a.lost] or answers[-2:]
            found = [_record(rng, lost[0], actor=inspector, deadline_days=3)]
            if position == 3:
                lived += found  # still under way: its problem waits (待交办), hidden from the school
                continue
            inspection = inspection_submit(inspection=inspection, actor=inspector, partial=True)
            for problem in found:
                problem.refresh_from_db()
            if school.pk == demo.pk:
                # Its 3-day problem is due in three hours (yellow); one more, recorded after submitting,
                # has ten working days (green).
                later = (lost[1:] or answers[:1])[0]
                later.inspection = inspection
                found.append(_record(rng, later, actor=inspector, deadline_days=10))
                delta = found[0].deadline - (now + dt.timedelta(hours=3))
            else:
                delta = dt.timedelta(days=position + 4)  # overdue by now
            shifts.append(_backdate(problems=found, inspections=[inspection], delta=delta, label="暗访督查"))
            lived += found

        # 4. 跟踪督查, planned: the schools with unfinished problems of the mock round.
        campaigns.round_create_follow_up(
            campaign=campaign,
            previous_rounds=[mock],
            name="第一次模拟测评问题跟踪督查",
            start_date=today + dt.timedelta(days=7),
            end_date=today + dt.timedelta(days=14),
            inspectors=[inspector],
            actor=office,
        )
        report.rounds = campaign.rounds.count()
        audit.record(
            "demo.backdate",
            actor=office,
            obj=campaign,
            data={"note": "演示数据：以下检查与问题的时间回拨到各轮次进行时", "shifts": shifts},
        )
    from django.db.models import Count

    report.problems = dict(
        Problem.objects.filter(round__campaign=campaign).values_list("status").annotate(n=Count("pk"))
    )
    report.created = True
    report.seconds = time.monotonic() - started
    return report
