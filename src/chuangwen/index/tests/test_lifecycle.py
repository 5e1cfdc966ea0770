"""The edition lifecycle as data: draft → published → archived, nothing else."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from chuangwen.core.models import AuditEvent
from chuangwen.index import services
from chuangwen.index.models import Edition, EditionLocked
from chuangwen.index.services import TRANSITIONS, TransitionRefused

from .routes_pages import make_edition

Status = Edition.Status


def test_the_map_allows_exactly_publish_and_archive():
    assert set(TRANSITIONS) == {(Status.DRAFT, Status.PUBLISHED), (Status.PUBLISHED, Status.ARCHIVED)}


def test_publish_sets_who_and_when_and_audits(city):
    office = city.users["office"]
    edition = make_edition()
    edition = services.edition_publish(edition=edition, actor=office)
    assert edition.status == Status.PUBLISHED
    assert edition.published_at is not None
    assert edition.published_by == office
    event = AuditEvent.objects.filter(event_type="index.edition_publish").get()
    assert event.actor_id == office.pk and event.object_id == str(edition.pk)


def test_archive_after_publish(db):
    edition = make_edition(status="published")
    edition = services.edition_archive(edition=edition)
    assert edition.status == Status.ARCHIVED
    assert AuditEvent.objects.filter(event_type="index.edition_archive").exists()


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("draft", "archived"),
        ("draft", "draft"),
        ("published", "draft"),
        ("published", "published"),
        ("archived", "published"),
        ("archived", "draft"),
        ("archived", "archived"),
        ("draft", "nonsense"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(db, start, to):
    edition = make_edition(status=start)
    before = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused) as exc:
        services.edition_transition(edition=edition, to=to)
    assert "不能变为" in exc.value.messages[0]
    edition.refresh_from_db()
    assert edition.status == start
    assert AuditEvent.objects.count() == before


def test_an_empty_draft_cannot_be_published(db):
    edition = services.edition_create(name="空版本", code="empty")
    with pytest.raises(TransitionRefused, match="没有任何测评标准"):
        services.edition_publish(edition=edition)
    edition.refresh_from_db()
    assert edition.status == Status.DRAFT


@pytest.mark.parametrize(
    ("field", "value", "missing"),
    [("methods", [], "测评方法"), ("school_types", [], "适用学校类型"), ("points", 0, "分值")],
)
def test_an_incomplete_standard_blocks_publishing(db, field, value, missing):
    edition = make_edition()
    standard = edition.standards.get(code="1.1.2")
    services.standard_update(standard=standard, **{field: value})
    with pytest.raises(TransitionRefused) as exc:
        services.edition_publish(edition=edition)
    assert any("1.1.2" in m and missing in m for m in exc.value.messages)
    edition.refresh_from_db()
    assert edition.status == Status.DRAFT


def test_a_zero_point_negative_list_item_may_be_published(db):
    edition = make_edition()
    services.standard_update(standard=edition.standards.get(code="1.1.1"), points=0, negative_list=True)
    assert services.edition_publish(edition=edition).status == Status.PUBLISHED


@pytest.mark.django_db
@settings(max_examples=30, deadline=None)
@given(moves=st.lists(st.sampled_from(list(Status.values)), max_size=6))
def test_any_sequence_of_moves_follows_the_map(moves):
    """Whatever is asked, the status only ever changes along TRANSITIONS."""
    with transaction.atomic():
        edition = make_edition(code="hyp")
        status = edition.status
        for to in moves:
            try:
                services.edition_transition(edition=edition, to=to)
            except ValidationError:
                edition.refresh_from_db()
                assert edition.status == status
            else:
                assert (status, to) in TRANSITIONS
                status = to
        transaction.set_rollback(True)


@pytest.mark.parametrize("status", ["published", "archived"])
def test_locked_editions_refuse_every_change_through_the_services(db, status):
    edition = make_edition(status=status)
    group = edition.groups.get(code="1.1")
    standard = edition.standards.get(code="1.1.1")
    attempts = [
        lambda: services.edition_update(edition=edition, name="改名"),
        lambda: services.edition_delete(edition=edition),
        lambda: services.group_create(edition=edition, title="新项目"),
        lambda: services.group_update(group=group, title="改名"),
        lambda: services.group_delete(group=group),
        lambda: services.group_move(group=group, up=True),
        lambda: services.standard_create(group=group, code="9.9.9", text="新", points=1),
        lambda: services.standard_update(standard=standard, points=5),
        lambda: services.standard_delete(standard=standard),
        lambda: services.standard_move(standard=standard, up=False),
    ]
    for attempt in attempts:
        with pytest.raises(EditionLocked) as exc:
            attempt()
        assert "不能修改" in exc.value.messages[0]
    standard.refresh_from_db()
    assert standard.points == 2
    assert edition.standards.count() == 3 and edition.groups.count() == 2


def test_locked_rows_refuse_direct_model_saves(db):
    edition = make_edition(status="published")
    standard = edition.standards.get(code="1.1.1")
    standard.points = 9
    with pytest.raises(EditionLocked):
        standard.save()
    with pytest.raises(EditionLocked):
        standard.delete()
