"""Read-only admin views: every change goes through the services (and so into the audit chain)."""

from django.contrib import admin

from .models import Campaign, Round, RoundInspector, RoundSchool


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoundSchoolInline(admin.TabularInline):
    model = RoundSchool
    extra = 0

    has_add_permission = ReadOnlyAdmin.has_add_permission
    has_change_permission = ReadOnlyAdmin.has_change_permission
    has_delete_permission = ReadOnlyAdmin.has_delete_permission


class RoundInspectorInline(RoundSchoolInline):
    model = RoundInspector


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "edition", "start_date", "end_date", "status")
    list_filter = ("status",)
    search_fields = ("name",)


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("name", "campaign", "kind", "status", "start_date", "end_date", "sample_seed")
    list_filter = ("kind", "status")
    search_fields = ("name", "campaign__name")
    inlines = [RoundSchoolInline, RoundInspectorInline]
