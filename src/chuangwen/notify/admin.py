"""Read-only views of the outbox for operators; channel secrets are never shown here."""

from django.contrib import admin

from .models import ChannelConfig, DeliveryAttempt, Outbox


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "worker", "success", "status_code", "error", "duration_ms")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ("pk", "channel", "unit", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in Outbox._meta.fields]
    inlines = [DeliveryAttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChannelConfig)
class ChannelConfigAdmin(admin.ModelAdmin):
    list_display = ("unit", "kind", "name", "enabled", "updated_at")
    list_filter = ("kind", "enabled")
    search_fields = ("unit__name", "name")
    fields = ("unit", "kind", "name", "enabled", "updated_at")
    readonly_fields = ("unit", "kind", "name", "enabled", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
