from django.db.models import QuerySet

from .models import AuditEvent


def audit_events(*, event_type: str = "", actor: str = "", object_type: str = "") -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all().order_by("-seq")
    if event_type:
        qs = qs.filter(event_type=event_type)
    if actor:
        qs = qs.filter(actor_username__icontains=actor)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return qs
