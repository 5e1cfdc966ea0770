"""Assignments, coverage and tasks, scoped like the pages (the services and selectors decide)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from chuangwen.core import access
from chuangwen.index.models import Standard

from . import selectors, services
from .models import Task

router = Router()
STATUS_LABELS = dict(Task.Status.choices)


class AssignmentOut(Schema):
    id: int
    school_id: int
    school_name: str
    standard_id: int
    standard_code: str
    edition_id: int
    owner_id: int
    owner_name: str
    leader_id: int | None
    leader_name: str

    @staticmethod
    def resolve_school_name(obj):
        return obj.school.name

    @staticmethod
    def resolve_standard_code(obj):
        return obj.standard.code

    @staticmethod
    def resolve_edition_id(obj):
        return obj.standard.edition_id

    @staticmethod
    def resolve_owner_name(obj):
        return obj.owner.name or obj.owner.username

    @staticmethod
    def resolve_leader_name(obj):
        return (obj.leader.name or obj.leader.username) if obj.leader else ""


class SchoolCoverageOut(Schema):
    id: int
    name: str
    code: str
    applicable: int
    owned: int
    unowned: int


class StandardCoverageOut(Schema):
    id: int
    code: str
    applicable: int
    owned: int
    unowned: int


class PairOut(Schema):
    school_id: int
    standard_id: int


class CoverageOut(Schema):
    edition_id: int
    applicable: int
    owned: int
    percent: float
    schools: list[SchoolCoverageOut]
    standards: list[StandardCoverageOut]
    unowned: list[PairOut]


class TaskOut(Schema):
    id: int
    school_id: int
    standard_id: int
    standard_code: str
    title: str
    assignee_id: int | None
    due_date: dt.date
    status: str
    status_label: str
    progress_note: str
    overdue: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_standard_code(obj):
        return obj.standard.code

    @staticmethod
    def resolve_status_label(obj):
        return STATUS_LABELS.get(obj.status, obj.status)

    @staticmethod
    def resolve_overdue(obj):
        return obj.is_overdue()


class TaskIn(Schema):
    school_id: int
    standard_id: int
    title: str
    due_date: dt.date
    assignee_id: int | None = None
    progress_note: str = ""


class TaskPatch(Schema):
    title: str | None = None
    due_date: dt.date | None = None
    assignee_id: int | None = None
    status: str | None = None
    progress_note: str | None = None


def _edition_or_404(edition_id):
    edition = selectors.current_edition(edition_id)
    if edition is None:
        raise Http404
    return edition


@router.get("/assignments", response=list[AssignmentOut], tags=["责任分工"], summary="学校责任分工列表")
@paginate(PageNumberPagination, page_size=200)
def list_assignments(request, edition: int | None = None, school: int | None = None):
    edition_obj = selectors.current_edition(edition) if edition is not None else None
    if edition is not None and edition_obj is None:
        return selectors.assignment_list(user=request.user).none()
    return selectors.assignment_list(user=request.user, edition=edition_obj, school_id=school)


@router.get("/coverage", response=CoverageOut, tags=["责任分工"], summary="责任覆盖汇总")
def coverage_summary(request, edition: int | None = None, school_type: str = ""):
    matrix = selectors.coverage(user=request.user, edition=_edition_or_404(edition), school_type=school_type)
    return {
        "edition_id": matrix.edition.pk,
        "applicable": matrix.applicable,
        "owned": matrix.owned,
        "percent": round(matrix.percent, 2),
        "schools": [
            {
                "id": s.id,
                "name": s.name,
                "code": s.code,
                "applicable": s.applicable,
                "owned": s.owned,
                "unowned": s.unowned,
            }
            for s in matrix.schools
        ],
        "standards": [
            {"id": s.id, "code": s.code, "applicable": s.applicable, "owned": s.owned, "unowned": s.unowned}
            for s in matrix.standards
        ],
        "unowned": [{"school_id": s.id, "standard_id": c.id} for s, c in matrix.unowned],
    }


@router.get("/tasks", response=list[TaskOut], tags=["责任分工"], summary="工作任务列表")
@paginate(PageNumberPagination, page_size=200)
def list_tasks(request, school: int | None = None, status: str = "", overdue: bool = False):
    qs = selectors.task_list(user=request.user)
    if school is not None:
        qs = qs.filter(school_id=school)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.exclude(status=Task.Status.DONE).filter(due_date__lt=timezone.localdate())
    return qs.order_by("due_date", "pk")


def _person(user_id):
    return get_object_or_404(get_user_model(), pk=user_id) if user_id is not None else None


@router.post("/tasks", response={201: TaskOut}, tags=["责任分工"], summary="添加工作任务")
def create_task(request, payload: TaskIn):
    school = get_object_or_404(access.visible_schools(request.user), pk=payload.school_id)
    standard = get_object_or_404(Standard.objects.select_related("edition"), pk=payload.standard_id)
    task = services.task_create(
        school=school,
        standard=standard,
        title=payload.title,
        due_date=payload.due_date,
        assignee=_person(payload.assignee_id),
        progress_note=payload.progress_note,
        actor=request.user,
        request=request,
    )
    return Status(201, task)


@router.patch("/tasks/{task_id}", response=TaskOut, tags=["责任分工"], summary="更新工作任务")
def update_task(request, task_id: int, payload: TaskPatch):
    task = get_object_or_404(selectors.task_list(user=request.user), pk=task_id)
    fields = payload.dict(exclude_unset=True)
    if "assignee_id" in fields:
        fields["assignee"] = _person(fields.pop("assignee_id"))
    if fields.get("status") is not None and fields["status"] not in Task.Status.values:
        raise ValidationError({"status": f"未知的状态：{fields['status']}"})
    fields = {k: v for k, v in fields.items() if v is not None or k == "assignee"}
    return services.task_update(task=task, actor=request.user, request=request, **fields)
