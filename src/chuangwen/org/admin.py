from django.contrib import admin

from .models import Membership, SchoolClass, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "school_type", "ownership", "parent", "is_active")
    list_filter = ("kind", "school_type", "ownership", "is_active")
    search_fields = ("name", "code", "address")
    readonly_fields = ("path",)
    autocomplete_fields = ("parent",)


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ("school", "grade", "name", "head_teacher_name", "student_count")
    list_filter = ("grade",)
    search_fields = ("school__name", "name", "head_teacher_name")
    autocomplete_fields = ("school", "head_teacher")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "unit", "role", "title")
    list_filter = ("role",)
    search_fields = ("user__name", "user__username", "unit__name")
    autocomplete_fields = ("user", "unit")
