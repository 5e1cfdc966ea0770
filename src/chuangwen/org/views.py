"""Pages of the organisation: units and schools, classes. Thin: form → service → redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors

from . import selectors, services
from .forms import SchoolClassForm, UnitForm
from .models import LARGE_CLASS_MIN, SchoolClass, Unit


@login_required
def unit_list(request):
    filters = {
        "q": request.GET.get("q", "").strip(),
        "kind": request.GET.get("kind", ""),
        "school_type": request.GET.get("school_type", ""),
        "district": request.GET.get("district", ""),
        "ownership": request.GET.get("ownership", ""),
    }
    units = selectors.unit_list(user=request.user, **filters)
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "org/unit_list.html",
        {
            "page": page,
            "filters": filters,
            "kinds": Unit.Kind.choices,
            "school_types": Unit.SchoolType.choices,
            "ownerships": Unit.Ownership.choices,
            "districts": selectors.districts_for(request.user),
            "can_create": access.can_manage_units(request.user),
        },
    )


@login_required
def unit_detail(request, unit_id: int):
    unit = get_object_or_404(access.visible_units(request.user).select_related("parent"), pk=unit_id)
    classes = selectors.class_list(user=request.user, school=unit) if unit.is_school else None
    return render(
        request,
        "org/unit_detail.html",
        {
            "unit": unit,
            "children": access.visible_units(request.user).filter(parent=unit).order_by("name"),
            "members": selectors.unit_members(unit),
            "class_summary": selectors.class_summary(classes) if classes is not None else None,
            "can_change": access.can_change_unit(request.user, unit),
            "can_change_classes": unit.is_school and access.can_change_classes(request.user, unit),
        },
    )


@login_required
def unit_create(request):
    access.require(access.can_manage_units(request.user))
    parents = access.visible_units(request.user).exclude(kind=Unit.Kind.SCHOOL)
    form = UnitForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已创建“{unit.name}”。")
            return redirect("org:unit_detail", unit.pk)
    return render(request, "org/unit_form.html", {"form": form, "title": "新建单位"})


@login_required
def unit_edit(request, unit_id: int):
    unit = get_object_or_404(access.visible_units(request.user), pk=unit_id)
    access.require(access.can_change_unit(request.user, unit))
    parents = (
        access.visible_units(request.user).exclude(kind=Unit.Kind.SCHOOL).exclude(path__startswith=unit.path)
    )
    form = UnitForm(request.POST or None, instance=Unit.objects.get(pk=unit.pk), parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(unit=unit, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("org:unit_detail", unit.pk)
    return render(request, "org/unit_form.html", {"form": form, "title": f"编辑：{unit.name}", "unit": unit})


@login_required
def class_list(request, school_id: int | None = None):
    school = None
    if school_id is not None:
        school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    classes = selectors.class_list(user=request.user, school=school)
    size = request.GET.get("size", "")
    if size == "large":
        classes = classes.filter(student_count__gte=LARGE_CLASS_MIN)
    q = request.GET.get("q", "").strip()
    if q:
        classes = classes.filter(school__name__icontains=q)
    summary = selectors.class_summary(classes)
    page = Paginator(classes, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "org/class_list.html",
        {
            "school": school,
            "page": page,
            "summary": summary,
            "size": size,
            "q": q,
            "can_change": school is not None and access.can_change_classes(request.user, school),
        },
    )


@login_required
def class_create(request, school_id: int):
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    access.require(access.can_change_classes(request.user, school))
    form = SchoolClassForm(request.POST or None)
    form.instance.school = school
    if request.method == "POST" and form.is_valid():
        try:
            services.class_create(school=school, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "班级已添加。")
            return redirect("org:school_classes", school.pk)
    return render(request, "org/class_form.html", {"form": form, "school": school, "title": "添加班级"})


@login_required
def class_edit(request, class_id: int):
    klass = get_object_or_404(selectors.class_list(user=request.user), pk=class_id)
    access.require(access.can_change_classes(request.user, klass.school))
    form = SchoolClassForm(request.POST or None, instance=SchoolClass.objects.get(pk=klass.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.class_update(klass=klass, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("org:school_classes", klass.school_id)
    return render(
        request,
        "org/class_form.html",
        {"form": form, "school": klass.school, "title": f"编辑：{klass}", "klass": klass},
    )


@login_required
@require_POST
def class_delete(request, class_id: int):
    klass = get_object_or_404(selectors.class_list(user=request.user), pk=class_id)
    access.require(access.can_change_classes(request.user, klass.school))
    school_id = klass.school_id
    services.class_delete(klass=klass, actor=request.user, request=request)
    messages.success(request, "班级已删除。")
    return redirect("org:school_classes", school_id)
