"""Inspection services: who may start, how answers save (upsert, revisions), submit and correct."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.inspections import services
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger.tests.factories import make_setup

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(city):
    return make_setup(city)


@pytest.fixture
def inspector(city):
    return city.users[Role.INSPECTOR]


@pytest.fixture
def inspection(city, setup, inspector):
    return services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)


def _save(inspection, setup, code, actor, **kwargs):
    return services.answer_save(inspection=inspection, standard=setup.standards[code], actor=actor, **kwargs)


def test_start_by_the_assigned_inspector_and_office_only(city, setup, inspector):
    for role in (Role.LEADER, Role.DEPT_HEAD, Role.LIAISON, Role.SCHOOL_HEAD):
        with pytest.raises(ValidationError, match="您不是本轮对东区第一小学的检查人员"):
            services.inspection_start(round_=setup.round, school=city.school_a, actor=city.users[role])
    assert not Inspection.objects.exists()
    first = services.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    again = services.inspection_start(round_=setup.round, school=city.school_a, actor=city.users[Role.OFFICE])
    assert again.pk == first.pk and first.started_by == inspector
    assert AuditEvent.objects.filter(event_type="inspection.start", object_id=str(first.pk)).count() == 1


def test_start_refused_outside_the_round_or_before_it_starts(city, inspector):
    setup = make_setup(city)
    with pytest.raises(ValidationError, match=r"不在“.*”的受检学校中"):
        services.inspection_start(round_=setup.round, school=city.school_b, actor=city.users[Role.OFFICE])
    planned = make_setup(city, status="planned")
    with pytest.raises(ValidationError, match="未开始，不能检查"):
        services.inspection_start(round_=planned.round, school=city.school_a, actor=inspector)
    assert not Inspection.objects.exists()


def self_round(city, setup):
    """A self-check (自查) round in progress over school_a, in the campaign of `setup`."""
    from chuangwen.campaigns import services as campaigns

    office = city.users[Role.OFFICE]
    round_ = campaigns.round_create(
        campaign=setup.campaign,
        kind="self",
        name="学校自查",
        start_date=setup.campaign.start_date,
        end_date=setup.campaign.end_date,
        schools=[city.school_a],
        inspectors=[],
        actor=office,
    )
    return campaigns.round_transition(round_=round_, to="in_progress", actor=office)


def test_self_check_is_scored_by_the_school_lead(city, setup):
    round_ = self_round(city, setup)
    head = city.users[Role.SCHOOL_HEAD]
    inspection = services.inspection_start(round_=round_, school=city.school_a, actor=head)
    assert _save(inspection, setup, "1.1", head, result="达标").points == Decimal("4.00")
    with pytest.raises(ValidationError, match="检查人员"):
        services.inspection_start(round_=round_, school=city.school_a, actor=city.users[Role.TEACHER])
    with pytest.raises(ValidationError, match="检查人员"):
        services.inspection_start(round_=round_, school=city.school_a, actor=city.users[Role.INSPECTOR])


def test_answer_upserts_one_row_and_counts_revisions(city, setup, inspection, inspector):
    first = _save(inspection, setup, "1.1", inspector, result="基本达标", expected_revision=0)
    assert (first.revision, first.points) == (1, Decimal("2.40"))
    second = _save(inspection, setup, "1.1", inspector, result="达标", note=" 已复查 ", expected_revision=1)
    assert second.pk == first.pk and second.revision == 2 and second.note == "已复查"
    assert Answer.objects.filter(inspection=inspection).count() == 1
    counted = _save(inspection, setup, "1.3", inspector, occurrences=3)
    assert counted.points == Decimal("1.00") and counted.lost
    assert (
        AuditEvent.objects.filter(event_type="inspection.answer", object_id=str(inspection.pk)).count() == 3
    )


def test_stale_revision_is_refused_and_keeps_the_newer_answer(city, setup, inspection, inspector):
    _save(inspection, setup, "1.1", inspector, result="达标", expected_revision=0)
    _save(inspection, setup, "1.1", city.users[Role.OFFICE], result="不达标", expected_revision=1)
    with pytest.raises(ValidationError, match=r"已被 .* 修改，请刷新后再评"):
        _save(inspection, setup, "1.1", inspector, result="基本达标", expected_revision=1)
    answer = Answer.objects.get(inspection=inspection)
    assert (answer.result, answer.revision, answer.answered_by) == ("不达标", 2, city.users[Role.OFFICE])
    # A page that believes the answer new, while a colleague already saved it, is stale too.
    with pytest.raises(ValidationError, match="刷新"):
        _save(inspection, setup, "1.2", inspector, result="合格", expected_revision=3)
    assert not Answer.objects.filter(standard=setup.standards["1.2"]).exists()


def test_bad_answers_change_nothing(city, setup, inspection, inspector):
    with pytest.raises(ValidationError, match="结果只能是"):
        _save(inspection, setup, "1.1", inspector, result="优秀")
    with pytest.raises(ValidationError, match="说明不能超过 1000 字"):
        _save(inspection, setup, "1.1", inspector, result="达标", note="x" * 1001)
    with pytest.raises(ValidationError, match="不能判为不适用"):
        _save(inspection, setup, "1.4", inspector, result="不适用")
    with pytest.raises(ValidationError, match="检查人员"):
        _save(inspection, setup, "1.1", city.users[Role.LEADER], result="达标")
    assert not Answer.objects.exists()


def test_no_answer_after_submission(city, setup, inspection, inspector):
    _save(inspection, setup, "1.1", inspector, result="达标")
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    with pytest.raises(ValidationError, match="检查已提交，修改评分请使用“更正”"):
        _save(inspection, setup, "1.1", inspector, result="不达标")
    assert Answer.objects.get().result == "达标"


def test_submit_refuses_unanswered_unless_partial(city, setup, inspection, inspector):
    with pytest.raises(ValidationError, match="还没有任何评分"):
        services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    _save(inspection, setup, "1.1", inspector, result="基本达标")
    _save(inspection, setup, "1.2", inspector, result="不适用")
    with pytest.raises(ValidationError, match=r"还有 2 项标准未评分（1\.3、1\.4）"):
        services.inspection_submit(inspection=inspection, actor=inspector)
    inspection.refresh_from_db()
    assert inspection.status == Inspection.Status.IN_PROGRESS and inspection.score is None
    done = services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    assert done.is_submitted and done.submitted_by == inspector
    assert (done.applicable_points, done.obtained_points, done.score) == (
        Decimal(4),
        Decimal("2.40"),
        Decimal("60.00"),
    )
    event = AuditEvent.objects.get(event_type="inspection.submit", object_id=str(inspection.pk))
    assert event.data["unchecked"] == ["1.3", "1.4"]
    with pytest.raises(ValidationError, match="已经提交过了"):
        services.inspection_submit(inspection=inspection, actor=inspector)


def test_failed_negative_list_item_vetoes_the_submitted_score(city, setup, inspection, inspector):
    for code, result in (("1.1", "达标"), ("1.2", "合格"), ("1.4", "不合格")):
        _save(inspection, setup, code, inspector, result=result)
    _save(inspection, setup, "1.3", inspector, occurrences=0)
    done = services.inspection_submit(inspection=inspection, actor=inspector)
    assert done.vetoed and done.score == Decimal("0.00")
    assert done.raw_score == Decimal("90.91")  # 10 of 11 points
    assert "1.4" in done.veto_reason


def test_correction_needs_the_office_and_a_reason_and_is_audited(city, setup, inspection, inspector):
    answer = _save(inspection, setup, "1.1", inspector, result="不达标")
    _save(inspection, setup, "1.2", inspector, result="合格")
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    office = city.users[Role.OFFICE]
    with pytest.raises(ValidationError, match="更正评分必须填写原因"):
        services.answer_correct(answer=answer, result="达标", reason="  ", actor=office)
    with pytest.raises(ValidationError, match="只有创文办可以更正"):
        services.answer_correct(answer=answer, result="达标", reason="复核照片", actor=inspector)
    inspection.refresh_from_db()
    answer.refresh_from_db()
    assert (answer.result, inspection.score) == ("不达标", Decimal("33.33"))
    assert not AuditEvent.objects.filter(event_type="inspection.correct").exists()

    services.answer_correct(answer=answer, result="达标", reason="复核现场照片，已达标", actor=office)
    inspection.refresh_from_db()
    answer.refresh_from_db()
    assert (answer.result, answer.points, inspection.score) == ("达标", Decimal("4.00"), Decimal("100.00"))
    event = AuditEvent.objects.get(event_type="inspection.correct", object_id=str(inspection.pk))
    assert event.actor_id == office.pk
    assert event.data["reason"] == "复核现场照片，已达标"
    assert event.data["before"] == {"result": "不达标", "occurrences": 0, "points": "0.00", "score": "33.33"}
    assert event.data["after"] == {"result": "达标", "occurrences": 0, "points": "4.00", "score": "100.00"}
    assert verify_chain().ok


def test_correction_is_only_for_submitted_inspections(city, setup, inspection, inspector):
    answer = _save(inspection, setup, "1.1", inspector, result="达标")
    with pytest.raises(ValidationError, match="检查尚未提交"):
        services.answer_correct(answer=answer, result="不达标", reason="x", actor=city.users[Role.OFFICE])


def test_photo_needs_an_inspector_and_an_open_inspection(city, setup, inspection, inspector):
    from chuangwen.core.models import EvidencePhoto
    from chuangwen.ledger.tests.factories import jpeg

    answer = _save(inspection, setup, "1.1", inspector, result="不达标")
    photo = services.answer_add_photo(answer=answer, file=jpeg(), actor=inspector)
    assert photo.owner == answer and photo.school == city.school_a and "1.1" in photo.label
    with pytest.raises(ValidationError, match="检查人员"):
        services.answer_add_photo(answer=answer, file=jpeg(), actor=city.users[Role.LIAISON])
    services.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    answer.inspection.refresh_from_db()
    with pytest.raises(ValidationError, match="不能再添加照片"):
        services.answer_add_photo(answer=answer, file=jpeg(), actor=inspector)
    assert EvidencePhoto.objects.count() == 1
