"""Writes for evidence photos: upload (check, re-encode, stamp, store) and attach to an owner."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from ..audit import record
from ..models import EvidencePhoto
from .images import (
    SHANGHAI,
    bands,
    check,
    encode_original,
    has_cjk_font,
    jpeg,
    perceptual_hash,
    stamp,
    stamp_lines,
    thumbnail,
)
from .rollback import delete_on_rollback


def _storage_dir(when: dt.datetime) -> str:
    local = timezone.localtime(when, SHANGHAI)
    return f"evidence/{local:%Y}/{local:%m}/"


def evidence_photo_create(
    *,
    file,
    uploaded_by,
    school=None,
    purpose: str,
    label: str = "",
    actor=None,
) -> EvidencePhoto:
    """Check, re-encode, stamp and store one evidence photo; refuse bad input without a trace."""
    if purpose not in EvidencePhoto.Purpose.values:
        raise ValidationError("照片用途无效", code="purpose")
    if school is not None and school.kind != "school":
        raise ValidationError("照片只能属于学校", code="school")
    label = (label or "").strip()[:100]
    checked = check(file)
    uploaded_at = timezone.now()
    sha256 = hashlib.sha256(checked.data).hexdigest()
    phash = perceptual_hash(checked.image)
    original_bytes, ext = encode_original(checked.image, checked.fmt)
    lines = stamp_lines(
        uploaded_at=uploaded_at, school=school, label=label, uploader=uploaded_by, chinese=has_cjk_font()
    )
    stamped_bytes = jpeg(stamp(checked.image, lines))
    thumb_bytes = jpeg(thumbnail(checked.image), quality=80)

    stem = _storage_dir(uploaded_at) + uuid.uuid4().hex
    saved: list[str] = []
    try:
        with transaction.atomic():
            for suffix, content in (
                (f".{ext}", original_bytes),
                ("-stamped.jpg", stamped_bytes),
                ("-thumb.jpg", thumb_bytes),
            ):
                saved.append(default_storage.save(stem + suffix, ContentFile(content)))
            b0, b1, b2, b3 = bands(phash)
            photo = EvidencePhoto.objects.create(
                school=school,
                purpose=purpose,
                label=label,
                original=saved[0],
                stamped=saved[1],
                thumbnail=saved[2],
                sha256=sha256,
                phash=phash,
                phash_band0=b0,
                phash_band1=b1,
                phash_band2=b2,
                phash_band3=b3,
                width=checked.image.width,
                height=checked.image.height,
                bytes=len(checked.data),
                mime_type=checked.mime_type,
                captured_at=checked.captured_at,
                uploaded_at=uploaded_at,
                uploaded_by=uploaded_by,
                gps_stripped=checked.had_gps,
            )
            record(
                "evidence.upload",
                actor=actor or uploaded_by,
                obj=photo,
                data={
                    "sha256": sha256,
                    "phash": phash,
                    "bytes": len(checked.data),
                    "mime_type": checked.mime_type,
                    "school_id": school.pk if school else None,
                    "purpose": purpose,
                    "label": label,
                    "gps_stripped": checked.had_gps,
                },
            )
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    # Inside a caller's transaction the files outlive this block; they go if that transaction rolls back.
    delete_on_rollback(saved)
    return photo


def evidence_photo_attach(*, photo: EvidencePhoto, owner, actor=None) -> EvidencePhoto:
    """Attach a photo to its owner (a problem, say). A photo serves one owner; reuse means a new upload."""
    from django.contrib.contenttypes.models import ContentType

    owner_type = ContentType.objects.get_for_model(owner)
    if photo.owner_id is not None and (photo.owner_type_id, photo.owner_id) != (owner_type.pk, owner.pk):
        raise ValidationError("这张照片已关联到其他记录", code="attached")
    with transaction.atomic():
        photo.owner_type = owner_type
        photo.owner_id = owner.pk
        photo.save(update_fields=["owner_type", "owner_id", "updated_at"])
        record(
            "evidence.attach",
            actor=actor,
            obj=photo,
            data={"owner_type": owner_type.model, "owner_app": owner_type.app_label, "owner_id": owner.pk},
        )
    return photo
