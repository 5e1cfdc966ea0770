"""Evidence files written inside a transaction that then rolls back are deleted (decision 0023); files of a
committed transaction stay, even when another on-commit callback fails after the commit.

Most tests here commit for real (`transaction=True`), as production does; the savepoint cases also run
inside the test's own transaction, as pages do under pytest.
"""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from chuangwen.core.evidence import evidence_photo_create
from chuangwen.core.models import EvidencePhoto
from chuangwen.core.roles import Role
from chuangwen.ledger import services as ledger
from chuangwen.ledger.models import Problem
from chuangwen.ledger.tests.factories import make_problem, make_setup, noisy_jpeg

from .test_uploads import media_files


class Boom(Exception):
    pass


def _upload(city, seed: int) -> EvidencePhoto:
    return evidence_photo_create(
        file=noisy_jpeg(seed),
        uploaded_by=city.users[Role.INSPECTOR],
        school=city.school_a,
        purpose=EvidencePhoto.Purpose.FOUND,
        label="测试",
    )


def _names(photo: EvidencePhoto) -> list[str]:
    return [photo.original.name, photo.stamped.name, photo.thumbnail.name]


def _exist(names) -> list[bool]:
    return [default_storage.exists(n) for n in names]


@pytest.mark.django_db(transaction=True)
def test_an_upload_in_a_transaction_that_fails_afterwards_leaves_no_file(city):
    before = media_files()
    with pytest.raises(Boom), transaction.atomic():
        photo = _upload(city, 1)
        names = _names(photo)
        assert _exist(names) == [True, True, True]  # written, and referenced inside the transaction
        raise Boom
    assert _exist(names) == [False, False, False]
    assert media_files() == before
    assert not EvidencePhoto.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_committed_upload_keeps_its_files(city):
    with transaction.atomic():
        photo = _upload(city, 2)
    names = _names(photo)
    assert _exist(names) == [True, True, True]
    assert EvidencePhoto.objects.get().original.name == names[0]
    outside = _upload(city, 3)  # autocommit: nothing to undo
    assert _exist(_names(outside)) == [True, True, True]


@pytest.mark.django_db(transaction=True)
def test_a_ledger_service_that_raises_after_uploading_leaves_no_file(city):
    """problem_add_photo stores the photo in its own transaction; the caller's transaction then fails."""
    problem = make_problem(city, make_setup(city))
    before = media_files()
    with pytest.raises(Boom), transaction.atomic():
        photo = ledger.problem_add_photo(
            problem=problem, file=noisy_jpeg(4), purpose="found", actor=city.users[Role.INSPECTOR]
        )
        names = _names(photo)
        raise Boom
    assert _exist(names) == [False, False, False] and media_files() == before
    kept = ledger.problem_add_photo(
        problem=problem, file=noisy_jpeg(5), purpose="found", actor=city.users[Role.INSPECTOR]
    )
    assert _exist(_names(kept)) == [True, True, True]
    assert list(EvidencePhoto.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db(transaction=True)
def test_only_the_rolled_back_savepoints_files_go(city):
    with transaction.atomic():
        kept = _upload(city, 6)
        try:
            with transaction.atomic():
                lost = _upload(city, 7)
                raise Boom
        except Boom:
            pass
        assert _exist(_names(lost)) == [False, False, False]  # gone at once, the outer block still open
        assert _exist(_names(kept)) == [True, True, True]
        with transaction.atomic():  # a released savepoint: its files belong to the outer transaction
            later = _upload(city, 8)
    assert _exist(_names(kept)) == _exist(_names(later)) == [True, True, True]
    assert set(EvidencePhoto.objects.values_list("pk", flat=True)) == {kept.pk, later.pk}


@pytest.mark.django_db(transaction=True)
def test_files_of_a_released_savepoint_go_when_the_outer_transaction_fails(city):
    with pytest.raises(Boom), transaction.atomic():
        with transaction.atomic():
            photo = _upload(city, 9)
        raise Boom
    assert _exist(_names(photo)) == [False, False, False]


@pytest.mark.django_db(transaction=True)
def test_files_stay_when_another_on_commit_callback_fails_after_the_commit(city):
    """Django skips the remaining on-commit callbacks when one raises; the photo is committed by then,
    so its files must stay."""

    def broken_cache():
        raise Boom("cache unavailable")

    with pytest.raises(Boom), transaction.atomic():
        transaction.on_commit(broken_cache)
        photo = _upload(city, 10)
    assert EvidencePhoto.objects.filter(pk=photo.pk).exists()
    assert _exist(_names(photo)) == [True, True, True]


def test_the_pages_all_or_nothing_create_leaves_no_photo_of_a_refused_batch(client, city):
    """The create page stores the problem and its photos in one transaction: a bad second photo refuses
    the lot, and the first photo's files, already written, go with it (here under the test's transaction,
    so the page's block is a savepoint)."""
    setup = make_setup(city)
    client.force_login(city.users[Role.OFFICE])
    before = media_files()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/ledger/new/",
        {
            "school": city.school_a.pk,
            "source": "daily",
            "standard": setup.standards["1.1"].pk,
            "description": "操场有垃圾",
            "severity": "immediate",
            "photos": [
                noisy_jpeg(11),
                SimpleUploadedFile("b.jpg", b"not a photo", content_type="image/jpeg"),
            ],
        },
    )
    assert response.status_code == 200
    assert "b.jpg" in response.content.decode()
    assert not Problem.objects.exists() and not EvidencePhoto.objects.exists()
    assert media_files() == before
