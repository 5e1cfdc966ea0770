"""Permission-matrix rows for the evidence-photo images (photos of school_a, which every role reaches)."""

from __future__ import annotations

import io

from tests.matrix import ALL, Route


def _photo(city, user) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from chuangwen.core.evidence import evidence_photo_create

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, format="JPEG")
    photo = evidence_photo_create(
        file=SimpleUploadedFile("matrix.jpg", out.getvalue(), content_type="image/jpeg"),
        uploaded_by=user,
        school=city.school_a,
        purpose="found",
        label="矩阵",
    )
    return photo.pk


ROUTES: dict[str, Route] = {
    "core:evidence_stamped": Route(lambda c, u: f"/evidence/{_photo(c, u)}/stamped.jpg", ALL),
    "core:evidence_thumbnail": Route(lambda c, u: f"/evidence/{_photo(c, u)}/thumb.jpg", ALL),
}
