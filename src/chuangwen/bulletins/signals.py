"""Signals of the bulletins app.

`bulletin_issued` is sent once a bulletin's issuing transaction has committed, with `bulletin_id=`
(the accountability app records 通报表扬 / 通报批评 for the units named in it).
"""

from __future__ import annotations

import django.dispatch
from django.core.exceptions import ValidationError

bulletin_issued = django.dispatch.Signal()

_LISTS = ("commended", "criticised", "recipients")


def refuse_list_changes_when_issued(sender, instance, action, reverse, model, pk_set, **kwargs):
    """m2m_changed: the unit lists of an issued bulletin never change (either side of the relation)."""
    if action not in ("pre_add", "pre_remove", "pre_clear"):
        return
    from .models import ISSUED_IMMUTABLE, Bulletin

    if not reverse:
        if isinstance(instance, Bulletin) and instance.pk:
            issued = Bulletin.objects.filter(pk=instance.pk, status=Bulletin.Status.ISSUED).exists()
            # The issuing service fills `recipients` in the same transaction before the status flips.
            if issued:
                raise ValidationError(ISSUED_IMMUTABLE)
        return
    # From the unit side: `pk_set` are bulletin ids (None for clear: every bulletin of the unit).
    qs = Bulletin.objects.filter(status=Bulletin.Status.ISSUED)
    qs = qs.filter(pk__in=pk_set) if pk_set is not None else qs.filter(**{_related(sender): instance})
    if qs.exists():
        raise ValidationError(ISSUED_IMMUTABLE)


def _related(through) -> str:
    from .models import Bulletin

    for name in _LISTS:
        if getattr(Bulletin, name).through is through:
            return name
    return "pk__in"
