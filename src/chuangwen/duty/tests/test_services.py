"""Services: assignment one by one, by rule, by the bureau; handover; tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.duty import services
from chuangwen.duty.models import BureauAssignment, SchoolAssignment, Task
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import MembershipFactory, SchoolFactory, UserFactory

from .factories import build_edition, project

PRIMARY, JUNIOR = Unit.SchoolType.PRIMARY, Unit.SchoolType.JUNIOR


def mixed_types(i: int) -> list[str]:
    """Standard 0, 3: primary only; 1, 4: junior only; 2, 5: both."""
    return [[PRIMARY], [JUNIOR], [PRIMARY, JUNIOR]][i % 3]


def pairs():
    return set(SchoolAssignment.objects.values_list("school_id", "standard_id"))


@pytest.fixture
def staffed(city):
    """school_b gets a head and a liaison; school_c already has its liaison (outsider) but no head."""
    head_b = UserFactory(username="head_b")
    liaison_b = UserFactory(username="liaison_b")
    MembershipFactory(user=head_b, unit=city.school_b, role=Role.SCHOOL_HEAD)
    MembershipFactory(user=liaison_b, unit=city.school_b, role=Role.LIAISON)
    city.head_b, city.liaison_b = head_b, liaison_b
    return city


def test_rule_assigns_exactly_the_applicable_pairs(staffed):
    city = staffed
    edition = build_edition(projects=2, standards_per_project=3, types=mixed_types)
    office = city.users[Role.OFFICE]
    result = services.assign_by_rule(edition=edition, group=project(edition, "1"), actor=office)

    standards = {s.code: s.pk for s in edition.standards.all()}
    # Project 1 holds 1.1.1 (primary), 1.1.2 (junior), 1.1.3 (both).
    expected = {
        (city.school_a.pk, standards["1.1.1"]),
        (city.school_a.pk, standards["1.1.3"]),
        (city.school_c.pk, standards["1.1.1"]),
        (city.school_c.pk, standards["1.1.3"]),
        (city.school_b.pk, standards["1.1.2"]),
        (city.school_b.pk, standards["1.1.3"]),
    }
    assert pairs() == expected
    assert result.created == 6 and result.applicable == 6 and result.skipped == 0
    a = SchoolAssignment.objects.get(school=city.school_a, standard_id=standards["1.1.1"])
    assert a.owner == city.users[Role.LIAISON] and a.leader == city.users[Role.SCHOOL_HEAD]
    c = SchoolAssignment.objects.get(school=city.school_c, standard_id=standards["1.1.1"])
    assert c.owner == city.outsider and c.leader is None
    assert city.school_c.name in result.schools_without_leader
    event = AuditEvent.objects.filter(event_type="duty.assign_rule").get()
    assert event.data["created"] == 6
    assert verify_chain().ok


def test_rule_by_school_type_and_skips_schools_without_the_role(staffed):
    city = staffed
    edition = build_edition(projects=2, standards_per_project=3, types=mixed_types)
    result = services.assign_by_rule(
        edition=edition, school_type=PRIMARY, owner_role=Role.ARCHIVIST, actor=city.users[Role.ADMIN]
    )
    # Primary schools: a (has an archivist) and c (has none); 4 primary standards each.
    assert result.applicable == 8
    assert result.created == 4 and result.skipped == 4
    assert result.schools_without_owner == [city.school_c.name]
    assert {s for s, _ in pairs()} == {city.school_a.pk}
    assert set(SchoolAssignment.objects.values_list("owner", flat=True)) == {city.users[Role.ARCHIVIST].pk}


def test_rule_fill_keeps_and_overwrite_replaces(staffed):
    city = staffed
    edition = build_edition(projects=1, standards_per_project=2)
    office = city.users[Role.OFFICE]
    first = edition.standards.order_by("position").first()
    services.assignment_set(
        school=city.school_a, standard=first, owner=city.users[Role.TEACHER], actor=office
    )
    result = services.assign_by_rule(edition=edition, actor=office, mode=services.FILL)
    assert result.unchanged == 1 and result.created == 5
    kept = SchoolAssignment.objects.get(school=city.school_a, standard=first)
    assert kept.owner == city.users[Role.TEACHER]

    result = services.assign_by_rule(edition=edition, actor=office, mode=services.OVERWRITE)
    assert result.updated == 1 and result.created == 0 and result.unchanged == 5
    kept.refresh_from_db()
    assert kept.owner == city.users[Role.LIAISON]


def test_rule_is_for_the_bureau_office_only(staffed):
    edition = build_edition(projects=1, standards_per_project=1)
    for role in (Role.LIAISON, Role.SCHOOL_HEAD, Role.LEADER, Role.INSPECTOR):
        with pytest.raises(PermissionDenied):
            services.assign_by_rule(edition=edition, actor=staffed.users[role])
    assert not pairs()


def test_rule_refuses_a_draft_edition(staffed):
    edition = build_edition(projects=1, standards_per_project=1, publish=False)
    with pytest.raises(ValidationError):
        services.assign_by_rule(edition=edition, actor=staffed.users[Role.OFFICE])


def test_assignment_set_checks_people_school_and_applicability(city):
    edition = build_edition(projects=1, standards_per_project=2, types=lambda i: [[PRIMARY], [JUNIOR]][i])
    primary, junior = edition.standards.order_by("position")
    liaison = city.users[Role.LIAISON]
    with pytest.raises(ValidationError, match="不是"):
        services.assignment_set(school=city.school_a, standard=primary, owner=city.outsider, actor=liaison)
    with pytest.raises(ValidationError, match="不适用"):
        services.assignment_set(school=city.school_a, standard=junior, owner=liaison, actor=liaison)
    # A liaison assigns within their own school only.
    with pytest.raises(PermissionDenied):
        services.assignment_set(school=city.school_c, standard=primary, owner=city.outsider, actor=liaison)
    a = services.assignment_set(
        school=city.school_a,
        standard=primary,
        owner=city.users[Role.TEACHER],
        leader=city.users[Role.SCHOOL_HEAD],
        actor=liaison,
    )
    assert a.owner == city.users[Role.TEACHER]
    again = services.assignment_set(
        school=city.school_a, standard=primary, owner=liaison, leader=None, actor=liaison
    )
    assert again.pk == a.pk and again.owner == liaison and again.leader is None
    assert AuditEvent.objects.filter(event_type="duty.assign").count() == 2


def test_bureau_assignment_defaults_to_the_lead_department(city):
    edition = build_edition(projects=1, standards_per_project=1, lead_department=city.office_dept)
    standard = edition.standards.get()
    office = city.users[Role.OFFICE]
    b = services.bureau_assignment_set(standard=standard, person=city.users[Role.DEPT_HEAD], actor=office)
    assert b.department == city.office_dept and b.person == city.users[Role.DEPT_HEAD]
    with pytest.raises(ValidationError, match="机关"):
        services.bureau_assignment_set(standard=standard, person=city.users[Role.LIAISON], actor=office)
    with pytest.raises(PermissionDenied):
        services.bureau_assignment_set(standard=standard, person=None, actor=city.users[Role.LIAISON])


# --- handover ----------------------------------------------------------------------------------------


def test_handover_moves_every_responsibility_and_leaves_none_behind(city):
    edition = build_edition(projects=2, standards_per_project=3)
    office = city.users[Role.OFFICE]
    leaving = UserFactory(username="leaving", name="调离的副校长")
    successor = UserFactory(username="successor", name="接任的副校长")
    other_school = SchoolFactory(parent=city.district_b, name="西区第三小学")
    for unit in (city.school_a, other_school, city.bureau):
        role = Role.OFFICE if unit == city.bureau else Role.LIAISON
        MembershipFactory(user=leaving, unit=unit, role=role)
        MembershipFactory(user=successor, unit=unit, role=role)
    standards = list(edition.standards.order_by("position"))
    for s in standards[:4]:
        services.assignment_set(school=city.school_a, standard=s, owner=leaving, actor=office)
    for s in standards[4:]:
        services.assignment_set(
            school=city.school_a, standard=s, owner=city.users[Role.LIAISON], leader=leaving, actor=office
        )
    services.assignment_set(
        school=other_school, standard=standards[0], owner=leaving, leader=leaving, actor=office
    )
    services.bureau_assignment_set(standard=standards[0], person=leaving, actor=office)
    services.bureau_assignment_set(standard=standards[1], person=leaving, actor=office)
    due = dt.date(2026, 12, 31)
    open_task = services.task_create(
        school=city.school_a,
        standard=standards[0],
        title="制作公益广告",
        due_date=due,
        assignee=leaving,
        actor=office,
    )
    done_task = services.task_create(
        school=city.school_a,
        standard=standards[1],
        title="已完成的事",
        due_date=due,
        assignee=leaving,
        actor=office,
    )
    services.task_complete(task=done_task, actor=office)

    result = services.handover(person=leaving, successor=successor, reason="调任", actor=office)

    assert (result.owner, result.leader, result.bureau, result.tasks) == (5, 3, 2, 1)
    assert not SchoolAssignment.objects.filter(owner=leaving).exists()
    assert not SchoolAssignment.objects.filter(leader=leaving).exists()
    assert not BureauAssignment.objects.filter(person=leaving).exists()
    assert not Task.objects.filter(assignee=leaving).exclude(status=Task.Status.DONE).exists()
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert open_task.assignee == successor
    assert done_task.assignee == leaving  # history of finished work stays with who did it
    event = AuditEvent.objects.filter(event_type="duty.handover").get()
    assert event.data["from"] == leaving.pk and event.data["to"] == successor.pk
    assert (event.data["owner"], event.data["leader"], event.data["bureau"], event.data["tasks"]) == (
        5,
        3,
        2,
        1,
    )
    assert event.data["reason"] == "调任"
    assert verify_chain().ok


def test_handover_to_someone_outside_the_school_moves_nothing(city):
    edition = build_edition(projects=1, standards_per_project=2)
    office = city.users[Role.OFFICE]
    liaison = city.users[Role.LIAISON]
    for s in edition.standards.all():
        services.assignment_set(school=city.school_a, standard=s, owner=liaison, actor=office)
    with pytest.raises(ValidationError, match=city.school_a.name):
        services.handover(person=liaison, successor=city.outsider, actor=office)
    assert SchoolAssignment.objects.filter(owner=liaison).count() == 2
    assert not AuditEvent.objects.filter(event_type="duty.handover").exists()
    with pytest.raises(ValidationError):
        services.handover(person=liaison, successor=liaison, actor=office)


def test_school_head_hands_over_within_their_school_only(city):
    edition = build_edition(projects=1, standards_per_project=1)
    standard = edition.standards.get()
    office = city.users[Role.OFFICE]
    head = city.users[Role.SCHOOL_HEAD]
    liaison = city.users[Role.LIAISON]
    MembershipFactory(user=liaison, unit=city.school_c, role=Role.TEACHER)
    successor = city.users[Role.ARCHIVIST]
    services.assignment_set(school=city.school_a, standard=standard, owner=liaison, actor=office)
    services.assignment_set(school=city.school_c, standard=standard, owner=liaison, actor=office)
    result = services.handover(person=liaison, successor=successor, actor=head)
    assert result.owner == 1
    assert SchoolAssignment.objects.get(school=city.school_a).owner == successor
    assert SchoolAssignment.objects.get(school=city.school_c).owner == liaison  # not the head's school
    with pytest.raises(PermissionDenied):
        services.handover(person=liaison, successor=successor, actor=city.users[Role.TEACHER])


# --- tasks -------------------------------------------------------------------------------------------


def test_task_workflow_and_who_may_change_what(city):
    edition = build_edition(projects=1, standards_per_project=1)
    standard = edition.standards.get()
    liaison, teacher = city.users[Role.LIAISON], city.users[Role.TEACHER]
    task = services.task_create(
        school=city.school_a,
        standard=standard,
        title="  布置宣传栏 ",
        due_date=dt.date(2026, 12, 1),
        assignee=teacher,
        actor=liaison,
    )
    assert task.title == "布置宣传栏" and task.status == Task.Status.TODO
    # The assignee reports progress but may not move the deadline.
    services.task_update(task=task, status=Task.Status.DOING, progress_note="已设计", actor=teacher)
    with pytest.raises(PermissionDenied):
        services.task_update(task=task, due_date=dt.date(2027, 1, 1), actor=teacher)
    task = services.task_complete(task=task, actor=teacher)
    assert task.status == Task.Status.DONE and task.completed_at is not None
    with pytest.raises(ValidationError, match="不能从"):
        services.task_update(task=task, status=Task.Status.TODO, actor=liaison)
    task = services.task_update(task=task, status=Task.Status.DOING, actor=liaison)  # reopen
    assert task.completed_at is None
    with pytest.raises(PermissionDenied):
        services.task_update(task=task, progress_note="越权", actor=city.outsider)
    with pytest.raises(ValidationError):
        services.task_create(
            school=city.school_a,
            standard=standard,
            title="x",
            due_date=dt.date(2026, 1, 1),
            assignee=city.outsider,
            actor=liaison,
        )
    assert AuditEvent.objects.filter(event_type__startswith="duty.task").count() == 4
