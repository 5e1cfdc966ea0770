from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the chain is append-only, even for system administrators."""

    list_display = (
        "seq",
        "created_at",
        "actor_username",
        "actor_role",
        "ip",
        "event_type",
        "object_repr",
        "result",
    )
    list_filter = ("event_type", "result")
    search_fields = ("actor_username", "object_repr", "event_type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
