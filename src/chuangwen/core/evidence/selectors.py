"""Reads for evidence photos: who may see them, and which earlier photos a new one repeats."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.db.models import Q, QuerySet

from .. import access
from ..models import EvidencePhoto
from .images import BAND_BITS, BANDS, bands

REUSE_MESSAGE = "同一或高度相似的照片已用于其他问题/学校"


def _neighbours(value: int, radius: int) -> list[int]:
    """Every 16-bit value within `radius` bit flips of `value`."""
    out = [value]
    for r in range(1, radius + 1):
        for bits in itertools.combinations(range(BAND_BITS), r):
            flipped = value
            for b in bits:
                flipped ^= 1 << b
            out.append(flipped)
    return out


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def find_reuse(photo: EvidencePhoto, *, max_distance: int = 6) -> list[EvidencePhoto]:
    """Earlier photos with the same bytes, or a perceptual hash within `max_distance`, that serve a
    different owner or a different school: what the re-checker must be told (REUSE_MESSAGE)."""
    if not 0 <= max_distance <= 11:
        raise ValueError("max_distance must be between 0 and 11")
    radius = max_distance // BANDS
    near = Q(sha256=photo.sha256)
    for i, band in enumerate(bands(photo.phash)):
        near |= Q(**{f"phash_band{i}__in": _neighbours(band, radius)})
    earlier = Q(uploaded_at__lt=photo.uploaded_at) | Q(uploaded_at=photo.uploaded_at, pk__lt=photo.pk)
    candidates = (
        EvidencePhoto.objects.filter(near)
        .filter(earlier)
        .exclude(pk=photo.pk)
        .select_related("school", "uploaded_by")
        .order_by("uploaded_at", "pk")
    )
    found = []
    for other in candidates:
        if other.sha256 != photo.sha256 and hamming(other.phash, photo.phash) > max_distance:
            continue
        other_owner = (other.owner_type_id, other.owner_id)
        different_owner = other.owner_id is not None and other_owner != (photo.owner_type_id, photo.owner_id)
        if different_owner or other.school_id != photo.school_id:
            found.append(other)
    return found


# Apps that own photos may hide some of them from people outside the bureau (an unannounced inspection's
# photos until the school's inspection is submitted): each hook takes the user and returns a Q of photos to
# exclude, or None. Registered in the owning app's AppConfig.ready(); core imports no domain app.
_HIDDEN_FROM_SCHOOLS: list[Callable[[object], Q | None]] = []


def register_hidden_from_schools(hook: Callable[[object], Q | None]) -> None:
    if hook not in _HIDDEN_FROM_SCHOOLS:
        _HIDDEN_FROM_SCHOOLS.append(hook)


def visible_photos(user) -> QuerySet[EvidencePhoto]:
    """Photos of the schools the user may see; photos without a school to their uploader and the bureau.

    Outside the bureau, the photos the owning apps hide (see register_hidden_from_schools) are left out.
    """
    if not getattr(user, "is_authenticated", False):
        return EvidencePhoto.objects.none()
    q = Q(school__in=access.visible_schools(user))
    if access.is_bureau_staff(user):
        return EvidencePhoto.objects.filter(q | Q(school__isnull=True))
    qs = EvidencePhoto.objects.filter(q | Q(school__isnull=True, uploaded_by=user))
    for hook in _HIDDEN_FROM_SCHOOLS:
        hidden = hook(user)
        if hidden is not None:
            qs = qs.exclude(hidden)
    return qs
