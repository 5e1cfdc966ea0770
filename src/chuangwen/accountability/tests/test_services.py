"""The record services: who may create, acknowledge, correct and revoke; history kept; audit and notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chuangwen.accountability import services
from chuangwen.accountability.models import Kind, Record, RecordEvent
from chuangwen.core.audit import verify_chain
from chuangwen.core.calendar import SHANGHAI
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger.tests.factories import make_problem, make_setup
from chuangwen.notify.models import Notification

DAY = dt.date(2026, 11, 20)


def _create(city, **kw):
    values = {
        "kind": Kind.CRITICISE,
        "unit": city.school_a,
        "reason": "操场卫生问题逾期未整改",
        "date": DAY,
        "actor": city.users[Role.OFFICE],
    }
    values.update(kw)
    return services.record_create(**values)


def test_create_writes_event_audit_and_tells_head_and_liaison(city):
    setup = make_setup(city)
    problem = make_problem(city, setup)
    record = _create(city, problems=[problem])
    assert record.problems.get() == problem
    event = record.events.get()
    assert event.kind == RecordEvent.Kind.CREATE and event.actor == city.users[Role.OFFICE]
    audit = AuditEvent.objects.get(seq=event.audit_seq)
    assert audit.event_type == "accountability.create" and audit.data["problem_ids"] == [problem.pk]
    told = set(
        Notification.objects.filter(kind="accountability.criticise").values_list("recipient", flat=True)
    )
    assert told == {city.users[Role.SCHOOL_HEAD].pk, city.users[Role.LIAISON].pk}
    assert verify_chain().ok


@pytest.mark.parametrize(
    "role", [Role.LEADER, Role.DEPT_HEAD, Role.INSPECTOR, Role.SCHOOL_HEAD, Role.LIAISON]
)
def test_only_the_office_creates(city, role):
    with pytest.raises(ValidationError) as exc:
        _create(city, actor=city.users[role])
    assert exc.value.code == "forbidden"
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 2001}, "reason"),
        ({"kind": "bogus"}, "kind"),
        ({"date": timezone.localdate() + dt.timedelta(days=1)}, "date"),
        ({"kind": Kind.TALK}, "talk_at"),  # a talk needs its time
        ({"talk_place": "局会议室"}, "talk_at"),  # talk fields on a criticism
    ],
)
def test_bad_input_is_refused_and_nothing_changes(city, kw, field):
    with pytest.raises(ValidationError) as exc:
        _create(city, **kw)
    assert field in exc.value.message_dict
    assert not Record.objects.exists()
    assert not AuditEvent.objects.filter(event_type="accountability.create").exists()


def test_problems_of_another_school_are_refused(city):
    setup = make_setup(city)
    other = make_problem(city, setup, school=city.school_c, responsible=city.outsider)
    with pytest.raises(ValidationError) as exc:
        _create(city, problems=[other])
    assert "problems" in exc.value.message_dict
    assert not Record.objects.exists()


def test_the_bureau_cannot_be_the_unit(city):
    with pytest.raises(ValidationError):
        _create(city, unit=city.bureau)


def test_a_talk_keeps_its_time_place_and_people(city):
    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)
    record = _create(
        city, kind=Kind.TALK, talk_at=when, talk_place="局三楼会议室", talk_people="分管副局长；校长"
    )
    assert (record.talk_at, record.talk_place, record.talk_people) == (
        when,
        "局三楼会议室",
        "分管副局长；校长",
    )
    note = Notification.objects.filter(kind="accountability.talk").first()
    assert "11月25日 09:30" in note.body and "局三楼会议室" in note.body


def test_acknowledge_only_by_that_schools_head(city):
    record = _create(city)
    for role in (Role.LIAISON, Role.ADMIN, Role.OFFICE, Role.LEADER):
        with pytest.raises(ValidationError) as exc:
            services.record_acknowledge(record=record, actor=city.users[role])
        assert exc.value.code == "forbidden"
    # The head of another school is not the head of this one.
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    head_c = UserFactory(username="head_c")
    MembershipFactory(user=head_c, unit=city.school_c, role=Role.SCHOOL_HEAD)
    with pytest.raises(ValidationError):
        services.record_acknowledge(record=record, actor=head_c)
    record.refresh_from_db()
    assert record.acknowledged_at is None

    head = city.users[Role.SCHOOL_HEAD]
    done = services.record_acknowledge(record=record, actor=head, note="已召开专题会，落实整改")
    assert done.acknowledged_by == head and done.acknowledgement_note == "已召开专题会，落实整改"
    assert done.events.filter(kind=RecordEvent.Kind.ACKNOWLEDGE, actor=head).exists()
    assert AuditEvent.objects.filter(
        event_type="accountability.acknowledge", object_id=str(record.pk)
    ).exists()
    assert Notification.objects.filter(
        kind="accountability.acknowledged", recipient=city.users[Role.OFFICE]
    ).exists()
    with pytest.raises(ValidationError, match="已经确认"):
        services.record_acknowledge(record=record, actor=head)


def test_revoke_keeps_the_record_and_its_history(city):
    record = _create(city)
    with pytest.raises(ValidationError) as exc:
        services.record_revoke(record=record, reason="误记", actor=city.users[Role.SCHOOL_HEAD])
    assert exc.value.code == "forbidden"
    with pytest.raises(ValidationError):
        services.record_revoke(record=record, reason="  ", actor=city.users[Role.OFFICE])
    revoked = services.record_revoke(record=record, reason="对象登记错误", actor=city.users[Role.OFFICE])
    assert Record.objects.filter(pk=record.pk).exists()
    assert revoked.revoked_by == city.users[Role.OFFICE] and revoked.revoke_reason == "对象登记错误"
    assert list(revoked.events.values_list("kind", flat=True)) == ["create", "revoke"]
    assert revoked.reason == "操场卫生问题逾期未整改"  # the original stays as it was
    with pytest.raises(ValidationError, match="已经撤销"):
        services.record_revoke(record=record, reason="再撤", actor=city.users[Role.OFFICE])
    with pytest.raises(ValidationError, match="已撤销"):
        services.record_acknowledge(record=record, actor=city.users[Role.SCHOOL_HEAD])
    assert Notification.objects.filter(
        kind="accountability.revoked", recipient=city.users[Role.LIAISON]
    ).exists()


def test_correct_is_an_event_with_before_and_after(city):
    when = dt.datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)
    record = _create(city, kind=Kind.TALK, talk_at=when)
    office = city.users[Role.OFFICE]
    with pytest.raises(ValidationError):
        services.record_correct(record=record, changes={"talk_outcome": "已约谈"}, reason="", actor=office)
    with pytest.raises(ValidationError) as exc:
        services.record_correct(
            record=record, changes={"talk_outcome": "x"}, reason="补充", actor=city.users[Role.LIAISON]
        )
    assert exc.value.code == "forbidden"
    services.record_correct(
        record=record,
        changes={"talk_outcome": "校长作出书面检查，限期一周整改"},
        reason="约谈结束，登记结果",
        actor=office,
    )
    record.refresh_from_db()
    assert record.talk_outcome == "校长作出书面检查，限期一周整改"
    event = record.events.get(kind=RecordEvent.Kind.CORRECT)
    assert event.note == "约谈结束，登记结果"
    assert event.data == {
        "before": {"talk_outcome": ""},
        "after": {"talk_outcome": "校长作出书面检查，限期一周整改"},
    }
    with pytest.raises(ValidationError, match="没有需要更正"):
        services.record_correct(record=record, changes={"reason": record.reason}, reason="无", actor=office)
    # Talk fields only on talks.
    other = _create(city)
    with pytest.raises(ValidationError):
        services.record_correct(record=other, changes={"talk_outcome": "x"}, reason="补充", actor=office)


def test_a_district_record_is_acknowledged_by_the_leader_held_on_that_district(city):
    from chuangwen.org.tests.factories import MembershipFactory, UserFactory

    head = UserFactory(username="district_head")
    MembershipFactory(user=head, unit=city.district_a, role=Role.LEADER)
    record = _create(city, unit=city.district_a, kind=Kind.COMMEND, reason="组织有力")
    with pytest.raises(ValidationError):
        services.record_acknowledge(record=record, actor=city.users[Role.LEADER])  # the city's leader
    assert services.record_acknowledge(record=record, actor=head).acknowledged_by == head
