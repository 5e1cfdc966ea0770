from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path, reverse

from . import audit, calendar
from .models import AuditEvent, HolidayDay


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


class NoticeImportForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2200)
    text = forms.CharField(
        label="通知全文",
        widget=forms.Textarea(attrs={"rows": 20, "cols": 100}),
        help_text="粘贴《国务院办公厅关于某年部分节假日安排的通知》全文；将整体替换该年份的节假日与调休。",
    )


NOTICE_IMPORT_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}<h1>{{ title }}</h1>
<form method="post">{% csrf_token %}{{ form.as_div }}<input type="submit" value="导入"></form>
{% endblock %}"""


@admin.register(HolidayDay)
class HolidayDayAdmin(admin.ModelAdmin):
    """Edits are audited and take effect at once (the calendar's cache is invalidated on save)."""

    list_display = ("date", "weekday", "kind", "name", "year", "source", "updated_at")
    list_filter = ("year", "kind", "source")
    date_hierarchy = "date"
    search_fields = ("name",)
    actions = ["import_notice"]

    @admin.display(description="星期")
    def weekday(self, obj):
        return "一二三四五六日"[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        obj.source = HolidayDay.Source.MANUAL
        super().save_model(request, obj, form, change)
        audit.record(
            "calendar.edit",
            request=request,
            obj=obj,
            data={"date": obj.date.isoformat(), "kind": obj.kind, "name": obj.name, "year": obj.year},
        )

    def delete_model(self, request, obj):
        data = {"date": obj.date.isoformat(), "kind": obj.kind, "name": obj.name, "deleted": True}
        audit.record("calendar.edit", request=request, obj=obj, data=data)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description="粘贴国务院办公厅放假通知导入某年安排…")
    def import_notice(self, request, queryset):
        return redirect("admin:core_holidayday_import_notice")

    def get_urls(self):
        return [
            path(
                "import-notice/",
                self.admin_site.admin_view(self.import_notice_view),
                name="core_holidayday_import_notice",
            ),
            *super().get_urls(),
        ]

    def import_notice_view(self, request):
        if not self.has_add_permission(request) or not self.has_delete_permission(request):
            raise PermissionDenied
        form = NoticeImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = calendar.import_state_council_notice(
                    form.cleaned_data["text"], form.cleaned_data["year"], actor=request.user
                )
            except calendar.NoticeError as exc:
                form.add_error("text", str(exc))
            else:
                messages.success(
                    request,
                    f"已导入 {result.year} 年放假安排：{len(result.holidays)} 个工作日放假，"
                    f"{len(result.workdays)} 个周末调休上班。",
                )
                return redirect(f"{reverse('admin:core_holidayday_changelist')}?year={result.year}")
        context = {**self.admin_site.each_context(request), "title": "导入国务院办公厅放假通知", "form": form}
        page = engines["django"].from_string(NOTICE_IMPORT_PAGE)
        return HttpResponse(page.render(context, request))
