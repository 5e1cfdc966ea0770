"""Generating, editing, issuing and reissuing bulletins through the services."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from chuangwen.bulletins import generate, selectors, services
from chuangwen.bulletins.models import Bulletin, BulletinCounter, BulletinSettings
from chuangwen.bulletins.signals import bulletin_issued
from chuangwen.core.models import AuditEvent
from chuangwen.core.roles import Role
from chuangwen.ledger.models import Problem, Status
from chuangwen.notify.models import Notification
from chuangwen.org.models import Unit
from chuangwen.org.tests.factories import MembershipFactory, UserFactory
from chuangwen.reports.tests.factories import build

from .factories import make_draft, make_issued, make_setup_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = dt.date(2026, 9, 1), dt.date(2027, 6, 30)


@pytest.fixture
def figures(city):
    return build(city)


def _draft(city, figures, **kwargs):
    kwargs.setdefault("period_start", START)
    kwargs.setdefault("period_end", END)
    return services.bulletin_create(campaign=figures.campaign, actor=city.users[Role.OFFICE], **kwargs)


def test_generated_parts_list_the_problems_of_the_period_by_school_and_the_overdue_ones(city, figures):
    later = timezone.now() + dt.timedelta(days=30)  # the assigned problems' deadlines have passed
    bulletin = _draft(city, figures, now=later)
    content = bulletin.content
    p = figures.problems

    listed = {
        item["id"]: school["name"] for school in content["problems_by_school"] for item in school["items"]
    }
    expected = {
        problem.pk: problem.school.name
        for key, problem in p.items()
        if key not in ("a_void", "a_before")  # void; found before the campaign
    }
    assert listed == expected
    names = [s["name"] for s in content["problems_by_school"]]
    assert names == sorted(names)
    assert content["headline"]["found_in_period"] == len(expected)

    overdue_expected = sorted(
        pr.pk
        for pr in Problem.objects.filter(pk__in=[x.pk for k, x in p.items() if k != "a_before"])
        if pr.status in (Status.ASSIGNED, Status.IN_PROGRESS) and pr.deadline and pr.deadline < later
    )
    assert overdue_expected  # the fixture has overdue problems at that moment
    assert sorted(o["id"] for o in content["overdue"]) == overdue_expected
    for row in content["overdue"]:
        problem = Problem.objects.get(pk=row["id"])
        due = problem.deadline.astimezone(SHANGHAI).date()
        assert row["deadline"] == due.isoformat()
        assert row["days"] == (later.astimezone(SHANGHAI).date() - due).days

    ranking = {r["name"]: r for r in content["ranking"]}
    assert set(ranking) == set(
        Unit.objects.filter(kind="school", is_active=True).values_list("name", flat=True)
    )
    assert ranking[figures.school_e.name]["score"] is None and ranking[figures.school_e.name]["rank"] is None
    assert ranking[city.school_b.name]["rank"] == ranking[city.school_c.name]["rank"]  # the tie


def test_a_narrow_period_lists_only_its_problems(city, figures):
    p = figures.problems
    day = timezone.localtime(p["a_daily"].found_at).date()
    bulletin = _draft(city, figures, period_start=day, period_end=day)
    listed = {item["id"] for s in bulletin.content["problems_by_school"] for item in s["items"]}
    expected = {
        pr.pk
        for pr in Problem.objects.exclude(status=Status.VOID)
        if timezone.localtime(pr.found_at).date() == day
    }
    expected.discard(p["a_before"].pk)
    assert listed == expected and p["a_daily"].pk in listed


def test_suggestions_commend_top_schools_and_criticise_overdue_ones(city, figures):
    later = timezone.now() + dt.timedelta(days=30)
    bulletin = _draft(city, figures, now=later)
    commended = set(bulletin.commended.values_list("pk", flat=True))
    criticised = set(bulletin.criticised.values_list("pk", flat=True))
    rows = bulletin.content["ranking"]
    assert commended == {
        r["school_id"]
        for r in rows
        if r["rank"] is not None and r["rank"] <= 3 and not r["overdue"] and not r["vetoed"]
    }
    assert criticised == {r["school_id"] for r in rows if r["overdue"] > 0}
    assert not commended & criticised


def test_round_bulletin_covers_the_round_schools_only(city, figures):
    bulletin = _draft(city, figures, round=figures.round1, period_start=None, period_end=None)
    assert bulletin.kind == Bulletin.Kind.ROUND
    names = {r["name"] for r in bulletin.content["ranking"]}
    assert names == {city.school_a.name, city.school_b.name, city.school_c.name}
    listed = {item["id"] for s in bulletin.content["problems_by_school"] for item in s["items"]}
    assert listed == set(
        Problem.objects.filter(round=figures.round1).exclude(status=Status.VOID).values_list("pk", flat=True)
    )


def test_create_refuses_bad_scope(city, figures):
    office = city.users[Role.OFFICE]
    with pytest.raises(ValidationError) as exc:
        services.bulletin_create(campaign=figures.campaign, period_start=END, period_end=START, actor=office)
    assert "截止日期不能早于起始日期" in str(exc.value)
    with pytest.raises(ValidationError, match="请选择检查轮次"):
        services.bulletin_create(campaign=figures.campaign, actor=office)
    other = make_setup_for(city)
    with pytest.raises(ValidationError, match="不属于该创建周期"):
        services.bulletin_create(campaign=figures.campaign, round=other.round, actor=office)
    with pytest.raises(PermissionDenied):
        services.bulletin_create(
            campaign=figures.campaign, period_start=START, period_end=END, actor=city.users[Role.LEADER]
        )
    assert not Bulletin.objects.exists()


def test_update_changes_texts_and_lists_and_refuses_bad_lists(city, figures):
    office = city.users[Role.OFFICE]
    bulletin = _draft(city, figures)
    services.bulletin_update(
        bulletin=bulletin,
        actor=office,
        title="关于近期创文工作的通报",
        intro="导语。",
        commended=[city.school_b],
        criticised=[city.school_c.pk],
    )
    bulletin.refresh_from_db()
    assert bulletin.title == "关于近期创文工作的通报" and bulletin.intro == "导语。"
    assert list(bulletin.commended.all()) == [city.school_b]
    assert list(bulletin.criticised.all()) == [city.school_c]
    with pytest.raises(ValidationError, match="不能同时被表扬和批评"):
        services.bulletin_update(bulletin=bulletin, actor=office, commended=[city.school_c])
    with pytest.raises(ValidationError, match="在用学校"):
        services.bulletin_update(bulletin=bulletin, actor=office, criticised=[city.district_a])
    with pytest.raises(ValidationError, match="标题不能为空"):
        services.bulletin_update(bulletin=bulletin, actor=office, title="  ")
    with pytest.raises(ValidationError, match="不能超过"):
        services.bulletin_update(bulletin=bulletin, actor=office, intro="字" * 5001)
    bulletin.refresh_from_db()
    assert bulletin.title == "关于近期创文工作的通报"
    assert list(bulletin.commended.all()) == [city.school_b]


def test_issue_numbers_freezes_audits_notifies_and_signals(city, figures, django_capture_on_commit_callbacks):
    office = city.users[Role.OFFICE]
    BulletinSettings.objects.create(number_prefix="东教体创文", header_text="东市教育体育局创文工作通报")
    bulletin = _draft(city, figures)
    services.bulletin_update(
        bulletin=bulletin, actor=office, commended=[city.school_b], criticised=[city.school_a]
    )
    received = []

    def receiver(sender, bulletin_id, **kwargs):
        received.append(bulletin_id)

    bulletin_issued.connect(receiver, dispatch_uid="test-receiver")
    try:
        when = dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)  # already 2027 in Shanghai
        with django_capture_on_commit_callbacks(execute=True):
            issued = services.bulletin_issue(bulletin=bulletin, actor=office, now=when)
            assert received == []  # only once committed
    finally:
        bulletin_issued.disconnect(dispatch_uid="test-receiver")
    assert received == [issued.pk]
    issued.refresh_from_db()
    assert issued.status == Bulletin.Status.ISSUED
    assert (issued.year, issued.sequence, issued.number) == (2027, 1, "东教体创文〔2027〕1号")
    assert issued.content["commended_names"] == [city.school_b.name]
    assert issued.content["criticised_names"] == [city.school_a.name]
    assert issued.content["header"] == "东市教育体育局创文工作通报"
    assert issued.content_sha256 == services.content_digest(issued) and len(issued.content_sha256) == 64
    schools = set(Unit.objects.filter(kind="school", is_active=True).values_list("pk", flat=True))
    assert set(issued.recipients.values_list("pk", flat=True)) == schools
    event = AuditEvent.objects.get(event_type="bulletin.issue")
    assert event.object_id == str(issued.pk) and event.data["number"] == issued.number
    # school_a's head, liaison and archivist; the outsider for school_c; not the teacher
    inbox = set(Notification.objects.filter(kind="bulletin.issued").values_list("recipient_id", flat=True))
    assert inbox == {city.users[r].pk for r in (Role.SCHOOL_HEAD, Role.LIAISON, Role.ARCHIVIST)} | {
        city.outsider.pk
    }
    note = Notification.objects.get(kind="bulletin.issued", recipient=city.users[Role.SCHOOL_HEAD])
    assert issued.number in note.body and "通报批评" in note.body


def test_an_issued_bulletin_cannot_be_changed(city, figures):
    office = city.users[Role.OFFICE]
    issued = services.bulletin_issue(bulletin=_draft(city, figures), actor=office)
    for call in (
        lambda: services.bulletin_update(bulletin=issued, actor=office, title="改标题"),
        lambda: services.bulletin_update(bulletin=issued, actor=office, commended=[city.school_c]),
        lambda: services.bulletin_refresh(bulletin=issued, actor=office),
        lambda: services.bulletin_issue(bulletin=issued, actor=office),
        lambda: services.bulletin_delete(bulletin=issued, actor=office),
    ):
        with pytest.raises(ValidationError) as exc:
            call()
        assert "已印发" in str(exc.value)
    # The model refuses as well, whatever path the change takes.
    stale = Bulletin.objects.get(pk=issued.pk)
    stale.title = "绕过服务修改"
    with pytest.raises(ValidationError, match="已印发"):
        stale.save()
    stale.refresh_from_db()
    stale.content = {"ranking": []}
    with pytest.raises(ValidationError):
        stale.save()
    with pytest.raises(ValidationError):
        Bulletin.objects.filter(pk=issued.pk).update(title="批量修改")
    with pytest.raises(ValidationError):
        Bulletin.objects.filter(pk=issued.pk).delete()
    # (each in a savepoint: the related managers write inside a transaction, which the refusal breaks)
    with pytest.raises(ValidationError), transaction.atomic():
        issued.commended.add(city.school_c)
    with pytest.raises(ValidationError), transaction.atomic():
        city.school_c.bulletins_criticised.add(issued)
    with pytest.raises(ValidationError), transaction.atomic():
        issued.recipients.clear()
    fresh = Bulletin.objects.get(pk=issued.pk)
    assert fresh.title == issued.title and fresh.content_sha256 == services.content_digest(fresh)
    assert fresh.recipients.count() == issued.recipients.count()
    fresh.save()  # saving unchanged is harmless


def test_reissue_makes_a_new_draft_and_a_new_number(city, figures):
    office = city.users[Role.OFFICE]
    first = services.bulletin_issue(bulletin=_draft(city, figures), actor=office)
    draft = services.bulletin_reissue(bulletin=first, actor=office)
    assert draft.status == Bulletin.Status.DRAFT and draft.reissue_of_id == first.pk and draft.number == ""
    assert draft.title == first.title and draft.content["ranking"] == first.content["ranking"]
    assert set(draft.commended.all()) == set(first.commended.all())
    services.bulletin_update(bulletin=draft, actor=office, intro="更正：前期通报数据有误。")
    second = services.bulletin_issue(bulletin=draft, actor=office)
    assert second.number != first.number and second.sequence == first.sequence + 1
    first.refresh_from_db()
    assert first.intro != "更正：前期通报数据有误。" and first.content_sha256 == services.content_digest(
        first
    )
    with pytest.raises(ValidationError, match="只有已印发"):
        services.bulletin_reissue(
            bulletin=services.bulletin_reissue(bulletin=first, actor=office), actor=office
        )


def test_numbers_run_without_gaps_and_restart_each_year(city, figures):
    office = city.users[Role.OFFICE]
    now = dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)
    numbers = [
        services.bulletin_issue(bulletin=_draft(city, figures), actor=office, now=now).sequence
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]
    # An issue that fails after taking its number rolls the number back with it.
    draft = _draft(city, figures)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.bulletin_issue(bulletin=draft, actor=office, now=now)
        raise RuntimeError("boom")
    draft.refresh_from_db()
    assert draft.status == Bulletin.Status.DRAFT and draft.number == ""
    assert services.bulletin_issue(bulletin=draft, actor=office, now=now).sequence == 4
    next_year = dt.datetime(2027, 1, 5, 2, tzinfo=dt.UTC)
    assert services.bulletin_issue(bulletin=_draft(city, figures), actor=office, now=next_year).sequence == 1
    assert dict(BulletinCounter.objects.values_list("year", "last")) == {2026: 4, 2027: 1}
    seqs = list(Bulletin.objects.filter(year=2026).order_by("sequence").values_list("sequence", flat=True))
    assert seqs == [1, 2, 3, 4]


def test_an_unannounced_round_bulletin_waits_for_the_round_to_finish(city):
    setup = make_setup_for(city, kind="unannounced")
    office = city.users[Role.OFFICE]
    draft = services.bulletin_create(campaign=setup.campaign, round=setup.round, actor=office)
    with pytest.raises(ValidationError, match="暗访轮次结束前"):
        services.bulletin_issue(bulletin=draft, actor=office)


def test_who_sees_which_bulletin(city):
    school_b_head = UserFactory(username="b_head")
    MembershipFactory(user=school_b_head, unit=city.school_b, role=Role.SCHOOL_HEAD)
    setup = make_setup_for(city)  # its round covers school_a and school_c
    office = city.users[Role.OFFICE]
    draft = make_draft(city, campaign=setup.campaign)
    to_all = make_issued(city, campaign=setup.campaign)
    round_bulletin = services.bulletin_issue(
        bulletin=services.bulletin_create(campaign=setup.campaign, round=setup.round, actor=office),
        actor=office,
    )
    named = make_draft(city, campaign=setup.campaign)
    services.bulletin_update(
        bulletin=named, actor=office, addressed_to_all=False, commended=[city.school_a], criticised=[]
    )
    named = services.bulletin_issue(bulletin=named, actor=office)
    assert set(named.recipients.all()) == {city.school_a}

    def seen(user):
        return set(selectors.visible_bulletins(user).values_list("pk", flat=True))

    everything = {draft.pk, to_all.pk, round_bulletin.pk, named.pk}
    assert seen(office) == everything
    assert seen(city.users[Role.ADMIN]) == everything
    assert seen(city.users[Role.LEADER]) == everything - {draft.pk}
    assert seen(city.users[Role.INSPECTOR]) == everything - {draft.pk}
    for role in (Role.SCHOOL_HEAD, Role.LIAISON, Role.TEACHER):
        assert seen(city.users[role]) == {to_all.pk, round_bulletin.pk, named.pk}
    assert seen(city.outsider) == {to_all.pk, round_bulletin.pk}  # school_c: in the round, not named
    assert seen(school_b_head) == {to_all.pk}  # school_b: not in the round
    no_role = UserFactory(username="nobody")
    assert seen(no_role) == set()
    district_a_leader = UserFactory(username="east_leader")  # a district office: schools a and b
    MembershipFactory(user=district_a_leader, unit=city.district_a, role=Role.LEADER)
    assert seen(district_a_leader) == {to_all.pk, round_bulletin.pk, named.pk}
    district_b_leader = UserFactory(username="west_leader")  # school_c only: in the round, not named
    MembershipFactory(user=district_b_leader, unit=city.district_b, role=Role.LEADER)
    assert seen(district_b_leader) == {to_all.pk, round_bulletin.pk}


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_issues_racing_take_different_numbers(city):
    office = city.users[Role.OFFICE]
    setup = make_setup_for(city)
    drafts = [make_draft(city, campaign=setup.campaign) for _ in range(4)]
    barrier = threading.Barrier(len(drafts))
    errors = []

    def work(pk):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=30)
            services.bulletin_issue(bulletin=Bulletin.objects.get(pk=pk), actor=office)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(d.pk,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    seqs = sorted(Bulletin.objects.filter(status="issued").values_list("sequence", flat=True))
    assert seqs == [1, 2, 3, 4]
    assert Bulletin.objects.filter(status="issued").values("number").distinct().count() == 4


def test_chinese_numbers():
    assert [generate.chinese_number(n) for n in (1, 9, 10, 11, 20, 21, 99, 100, 105, 110, 123)] == [
        "一", "九", "十", "十一", "二十", "二十一", "九十九", "一百", "一百零五", "一百一十", "一百二十三"
    ]  # fmt: skip


def test_refresh_takes_the_current_data_and_keeps_the_edited_lists(city, figures):
    from chuangwen.ledger import services as ledger

    office = city.users[Role.OFFICE]
    bulletin = _draft(city, figures)
    services.bulletin_update(bulletin=bulletin, actor=office, commended=[city.school_c], criticised=[])
    new = ledger.problem_create(
        school=city.school_b,
        standard=figures.setup.standards["1.2"],
        source="daily",
        description="新发现的问题",
        actor=office,
    )
    before = {i["id"] for s in bulletin.content["problems_by_school"] for i in s["items"]}
    assert new.pk not in before
    services.bulletin_refresh(bulletin=bulletin, actor=office)
    bulletin.refresh_from_db()
    after = {i["id"] for s in bulletin.content["problems_by_school"] for i in s["items"]}
    assert after == before | {new.pk}
    assert list(bulletin.commended.all()) == [city.school_c] and not bulletin.criticised.exists()
