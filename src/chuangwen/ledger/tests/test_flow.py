"""The problem's whole life through the services: found, assigned (notified), fixed, re-checked, closed."""

import pytest
from django.core.exceptions import ValidationError

from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.ledger import services
from chuangwen.ledger.models import ProblemEvent, Status
from chuangwen.notify.models import Notification

from .factories import make_problem, make_setup, noisy_jpeg

pytestmark = pytest.mark.django_db


def test_found_problem_is_assigned_to_the_standard_owner_and_notified_at_once(city):
    problem = make_problem(city)
    assert problem.status == Status.ASSIGNED
    assert problem.responsible == city.users[Role.TEACHER]
    assert problem.deadline is not None and problem.deadline > problem.found_at
    told = set(Notification.objects.filter(kind="problem.assigned").values_list("recipient_id", flat=True))
    assert told == {city.users[Role.TEACHER].pk, city.users[Role.LIAISON].pk}


def test_whole_life_closes_with_a_recheck_and_every_step_audited(city):
    problem = make_problem(city)
    teacher, office = city.users[Role.TEACHER], city.users[Role.OFFICE]
    services.problem_move(problem=problem, code="accept", actor=teacher)
    with pytest.raises(ValidationError, match="整改后的照片"):
        services.problem_move(
            problem=problem, code="submit", actor=teacher, cause="值日不到位", measures="已清理"
        )
    services.problem_add_photo(
        problem=problem, file=noisy_jpeg(1), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
    )
    services.problem_move(
        problem=problem, code="submit", actor=teacher, cause="值日不到位", measures="已清理"
    )
    with pytest.raises(ValidationError, match="复核不通过必须填写原因"):
        services.problem_move(problem=problem, code="reject", actor=office)
    services.problem_move(problem=problem, code="reject", actor=office, reason="死角仍有垃圾")
    services.problem_add_photo(
        problem=problem, file=noisy_jpeg(2), purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
    )
    services.problem_move(problem=problem, code="submit", actor=teacher)
    problem = services.problem_move(problem=problem, code="approve", actor=office, note="已整改到位")
    assert problem.status == Status.CLOSED
    assert problem.rechecked_by == office and problem.closed_at is not None
    moves = list(problem.events.filter(kind=ProblemEvent.Kind.MOVE).values_list("move", flat=True))
    assert moves == ["assign", "accept", "submit", "reject", "submit", "approve"]
    seqs = set(problem.events.values_list("audit_seq", flat=True))
    audited = AuditEvent.objects.filter(seq__in=seqs, object_type="ledger.problem", object_id=str(problem.pk))
    assert audited.count() == problem.events.count()
    assert verify_chain().ok


def test_illegal_moves_are_refused_with_the_reason(city):
    problem = make_problem(city)
    with pytest.raises(ValidationError, match="当前为“已交办（待签收）”，不能复核通过并销号"):
        services.problem_move(problem=problem, code="approve", actor=city.users[Role.OFFICE])
    with pytest.raises(ValidationError, match="只有创文办可以作废"):
        services.problem_move(problem=problem, code="void", actor=city.users[Role.INSPECTOR], reason="重复")
    with pytest.raises(ValidationError, match="只有责任人或学校负责人、联络员可以签收"):
        services.problem_move(problem=problem, code="accept", actor=city.outsider)
    problem.refresh_from_db()
    assert problem.status == Status.ASSIGNED


def test_unannounced_problems_are_held_until_the_inspection_is_submitted(city):
    from chuangwen.inspections import services as inspections

    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
    )
    problem = services.problem_create(
        school=city.school_a, description="垃圾", inspection=inspection, answer=answer, actor=inspector
    )
    assert problem.status == Status.NEW and not Notification.objects.filter(kind="problem.assigned").exists()
    inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    problem.refresh_from_db()
    assert problem.status == Status.ASSIGNED
    assert Notification.objects.filter(kind="problem.assigned", recipient=city.users[Role.TEACHER]).exists()


def test_the_same_after_photo_for_two_problems_is_flagged_to_the_rechecker(city):
    setup = make_setup(city)
    teacher = city.users[Role.TEACHER]
    first = make_problem(city, setup, description="一楼走廊垃圾")
    second = make_problem(city, setup, code="1.3", description="二楼墙面乱贴")
    photo = noisy_jpeg(42)
    services.problem_add_photo(problem=first, file=photo, purpose=EvidencePhoto.Purpose.AFTER, actor=teacher)
    photo.seek(0)
    reused = services.problem_add_photo(
        problem=second, file=photo, purpose=EvidencePhoto.Purpose.AFTER, actor=teacher
    )
    first_photo = services.after_photos(first).get()
    event = second.events.get(kind=ProblemEvent.Kind.PHOTO)
    assert event.data["reuse_of"] == [first_photo.pk]
    assert event.data["photo_id"] == reused.pk
    assert first.events.get(kind=ProblemEvent.Kind.PHOTO).data["reuse_of"] == []


def test_a_school_never_sees_another_schools_problems(city):
    from chuangwen.ledger.selectors import visible_problems

    setup = make_setup(city)
    mine = make_problem(city, setup)
    theirs = make_problem(city, setup, school=city.school_c, description="西区问题")
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST):
        assert list(visible_problems(city.users[role])) == [mine]
    assert list(visible_problems(city.outsider)) == [theirs]
    assert list(visible_problems(city.users[Role.TEACHER])) == [mine]  # responsible for it
    for role in (Role.ADMIN, Role.LEADER, Role.OFFICE, Role.DEPT_HEAD, Role.INSPECTOR):
        assert set(visible_problems(city.users[role])) == {mine, theirs}


def test_unannounced_problems_stay_hidden_from_the_school_until_its_inspection_is_submitted(city):
    from chuangwen.inspections import services as inspections
    from chuangwen.ledger.selectors import my_problems, visible_problems

    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.2"], result="不合格", actor=inspector
    )
    problem = services.problem_create(
        school=city.school_a,
        description="公益广告缺失",
        inspection=inspection,
        answer=answer,
        actor=inspector,
        responsible=city.users[Role.TEACHER],
    )
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.TEACHER):
        assert not visible_problems(city.users[role]).exists()
    assert my_problems(user=city.users[Role.TEACHER]) == []
    assert visible_problems(city.users[Role.OFFICE]).get() == problem
    inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.TEACHER):
        assert visible_problems(city.users[role]).get() == problem
    assert my_problems(user=city.users[Role.TEACHER]) == [problem]


def test_an_unannounced_inspections_photos_are_hidden_from_the_school_until_submitted(client, city):
    from chuangwen.inspections import services as inspections

    setup = make_setup(city, kind="unannounced")
    inspector = city.users[Role.INSPECTOR]
    inspection = inspections.inspection_start(round_=setup.round, school=city.school_a, actor=inspector)
    answer = inspections.answer_save(
        inspection=inspection, standard=setup.standards["1.1"], result="不达标", actor=inspector
    )
    answer_photo = inspections.answer_add_photo(answer=answer, file=noisy_jpeg(3), actor=inspector)
    problem = services.problem_create(
        school=city.school_a, description="垃圾", inspection=inspection, answer=answer, actor=inspector
    )
    problem_photo = services.problem_add_photo(
        problem=problem, file=noisy_jpeg(4), purpose=EvidencePhoto.Purpose.FOUND, actor=inspector
    )
    urls = [f"/evidence/{p.pk}/{v}.jpg" for p in (answer_photo, problem_photo) for v in ("thumb", "stamped")]

    def statuses(user):
        client.force_login(user)
        return {client.get(url).status_code for url in urls}

    assert statuses(city.users[Role.LIAISON]) == {404}
    assert statuses(city.users[Role.SCHOOL_HEAD]) == {404}
    assert statuses(city.users[Role.OFFICE]) == {200}
    inspections.inspection_submit(inspection=inspection, actor=inspector, partial=True)
    assert statuses(city.users[Role.LIAISON]) == {200}
