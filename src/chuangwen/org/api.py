from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from chuangwen.core import access

from . import selectors
from .models import Unit

router = Router()
# Dict lookups: Model.get_FOO_display() costs ~15 µs a call, a large part of a 100-row page's time.
KIND_LABELS, SCHOOL_TYPE_LABELS = dict(Unit.Kind.choices), dict(Unit.SchoolType.choices)


class UnitOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    code: str
    parent_id: int | None
    school_type: str
    school_type_label: str
    ownership: str
    address: str
    enrolment: int | None
    staff_count: int | None

    @staticmethod
    def resolve_kind_label(obj):
        return KIND_LABELS.get(obj.kind, obj.kind)

    @staticmethod
    def resolve_school_type_label(obj):
        return SCHOOL_TYPE_LABELS.get(obj.school_type, obj.school_type)


class ClassOut(Schema):
    id: int
    school_id: int
    grade: int
    grade_label: str
    name: str
    head_teacher_name: str
    student_count: int
    size_flag: str

    @staticmethod
    def resolve_grade_label(obj):
        return obj.get_grade_display()


@router.get("/units", response=list[UnitOut], tags=["组织机构"], summary="可见单位列表")
@paginate(PageNumberPagination, page_size=100)
def list_units(request, q: str = "", kind: str = ""):
    # The API shows no class count: skip the annotation (and its join) entirely.
    return selectors.unit_list(user=request.user, q=q, kind=kind, with_class_count=False)


@router.get("/units/{unit_id}", response=UnitOut, tags=["组织机构"], summary="单位详情")
def get_unit(request, unit_id: int):
    return get_object_or_404(access.visible_units(request.user), pk=unit_id)


@router.get("/schools", response=list[UnitOut], tags=["组织机构"], summary="可见学校列表")
@paginate(PageNumberPagination, page_size=100)
def list_schools(request, q: str = "", school_type: str = "", district: str = "", ownership: str = ""):
    return selectors.school_list(
        user=request.user,
        q=q,
        school_type=school_type,
        district=district,
        ownership=ownership,
        with_class_count=False,
    )


@router.get("/schools/{school_id}", response=UnitOut, tags=["组织机构"], summary="学校详情")
def get_school(request, school_id: int):
    return get_object_or_404(access.visible_schools(request.user), pk=school_id)


@router.get("/schools/{school_id}/classes", response=list[ClassOut], tags=["组织机构"], summary="学校的班级")
@paginate(PageNumberPagination, page_size=200)
def list_school_classes(request, school_id: int):
    school = get_object_or_404(access.visible_schools(request.user), pk=school_id)
    return selectors.class_list(user=request.user, school=school)


@router.get("/classes", response=list[ClassOut], tags=["组织机构"], summary="可见班级列表")
@paginate(PageNumberPagination, page_size=200)
def list_classes(request, school: int | None = None, large_only: bool = False):
    qs = selectors.class_list(user=request.user)
    if school is not None:
        qs = qs.filter(school_id=school)
    if large_only:
        from .models import LARGE_CLASS_MIN

        qs = qs.filter(student_count__gte=LARGE_CLASS_MIN)
    return qs


@router.get("/classes/{class_id}", response=ClassOut, tags=["组织机构"], summary="班级详情")
def get_class(request, class_id: int):
    return get_object_or_404(selectors.class_list(user=request.user), pk=class_id)
