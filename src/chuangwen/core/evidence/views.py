"""Serve the stamped copy and the thumbnail of an evidence photo to those who may see it.

The re-encoded original is not served here: people look at the stamped copy, which carries the upload
time, school, problem number and uploader. Files stream through Django (not a public storage URL) so
the school scope is checked on every request, on local disk and on S3 alike.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from .selectors import visible_photos


def _serve(request, pk: int, field: str):
    photo = get_object_or_404(visible_photos(request.user), pk=pk)
    stored = getattr(photo, field)
    if not stored:
        raise Http404
    try:
        handle = stored.storage.open(stored.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def stamped(request, pk: int):
    return _serve(request, pk, "stamped")


@login_required
@require_GET
def thumbnail(request, pk: int):
    return _serve(request, pk, "thumbnail")
