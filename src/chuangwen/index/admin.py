"""Admin for the index: read-only once an edition leaves draft (the models refuse such saves anyway)."""

from django.contrib import admin

from .models import Edition, Group, Standard


def _is_draft(obj) -> bool:
    if obj is None:
        return True
    edition = obj if isinstance(obj, Edition) else obj.edition
    return edition.is_draft


class DraftOnlyMixin:
    """Change and delete only rows of draft editions; new rows only under drafts."""

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_draft(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_draft(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "edition":
            kwargs["queryset"] = Edition.objects.filter(status=Edition.Status.DRAFT)
        elif db_field.name in ("group", "parent"):
            kwargs["queryset"] = Group.objects.filter(edition__status=Edition.Status.DRAFT).select_related(
                "edition"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Edition)
class EditionAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "code", "status", "is_reference", "published_at")
    list_filter = ("status", "is_reference")
    search_fields = ("name", "code")
    # The lifecycle moves only through the services (the pages' publish/archive buttons).
    readonly_fields = ("status", "based_on", "published_at", "published_by")
    fields = ("name", "code", "description", "is_reference", *readonly_fields)


@admin.register(Group)
class GroupAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "edition", "depth", "position")
    list_filter = ("edition", "depth")
    search_fields = ("code", "title")
    list_select_related = ("edition",)


@admin.register(Standard)
class StandardAdmin(DraftOnlyMixin, admin.ModelAdmin):
    list_display = ("code", "short_text", "edition", "points", "negative_list")
    list_filter = ("edition", "negative_list", "scoring_kind")
    search_fields = ("code", "text")
    list_select_related = ("edition",)

    @admin.display(description="测评标准")
    def short_text(self, obj):
        return obj.text[:40]
