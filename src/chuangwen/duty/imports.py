"""Assignment by Excel: 学校代码 | 学校名称 | 标准编号 | 责任人用户名 | 分管领导用户名.

Reading, size and header checks are org.imports.workbook's; this module checks the rows against the
database and applies them all or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.core import access, audit
from chuangwen.core import staging_services as staging
from chuangwen.index.models import Edition, Standard
from chuangwen.org.imports.workbook import (
    Column,
    Issue,
    Rejected,
    SheetSpec,
    build_workbook,
    cell_text,
    read_sheet,
    shown,
)
from chuangwen.org.models import Membership

from . import permissions
from .models import AssignmentUpload, SchoolAssignment

SPEC = SheetSpec(
    name="责任分工",
    columns=(
        Column(
            "school_code",
            "学校代码",
            required=True,
            synonyms=("学校标识码", "学校编码"),
            width=16,
            text=True,
            help="系统中已有的学校代码。",
        ),
        Column(
            "school_name",
            "学校名称",
            synonyms=("学校",),
            width=28,
            help="仅用于核对，可留空；如填写，须与学校代码对应的名称一致。",
        ),
        Column(
            "standard_code",
            "标准编号",
            required=True,
            synonyms=("测评标准编号", "编号"),
            width=12,
            text=True,
            help="所选测评体系版本中的标准编号，如 3.2.1；须适用于该校的学校类型。",
        ),
        Column(
            "owner",
            "责任人用户名",
            required=True,
            synonyms=("责任人账号", "责任人"),
            width=16,
            help="责任人的登录账号，须在该校担任角色。",
        ),
        Column(
            "leader",
            "分管领导用户名",
            synonyms=("分管领导账号", "分管领导"),
            width=16,
            help="分管领导的登录账号，可留空；如填写，须在该校担任角色。",
        ),
    ),
    notes=(
        "在“责任分工”工作表中每行填写一所学校的一项标准。列的顺序可以调整，但请不要修改列名。",
        "按“学校代码 + 标准编号”匹配：已有分工会被更新，没有的会新增；导入不会删除文件中没有的分工。",
        "上传后先预览，确认无误再导入。只要有一处错误，整个文件都不会写入。",
    ),
)
PREVIEW_ROWS = 50
MAX_ERRORS = 500  # stored on the batch; the summary counts them all


@dataclass
class Planned:
    row: int
    school: Any
    standard: Standard
    owner: Any
    leader: Any
    action: str  # "新增" / "更新" / "无变化"
    current: SchoolAssignment | None = None


@dataclass
class ParseResult:
    sheet: str = ""
    rows: list[Planned] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str, *, row: int | None = None, column: str = "") -> None:
        self.errors.append(Issue(message, sheet=self.sheet, row=row, column=column))

    def counts(self) -> dict[str, int]:
        counts = {"total": len(self.rows), "新增": 0, "更新": 0, "无变化": 0}
        for r in self.rows:
            counts[r.action] += 1
        return counts

    def summary(self) -> dict:
        shown_rows = sorted(self.rows, key=lambda r: r.action == "无变化")[:PREVIEW_ROWS]
        return {
            "counts": self.counts(),
            "rows": [
                {
                    "row": r.row,
                    "action": r.action,
                    "school": r.school.name,
                    "standard": r.standard.code,
                    "owner": str(r.owner),
                    "leader": str(r.leader) if r.leader else "",
                }
                for r in shown_rows
            ],
            "error_count": len(self.errors),
        }

    def errors_json(self) -> list[dict]:
        return [issue.as_dict() for issue in self.errors[:MAX_ERRORS]]


def template(edition: Edition | None = None) -> bytes:
    codes = []
    if edition is not None:
        codes = list(
            Standard.objects.filter(edition=edition).order_by("position", "pk").values_list("code", "text")
        )
    help_rows = [[], ["标准编号", "", "测评标准"]] + [[code, "", text[:100]] for code, text in codes]
    return build_workbook(SPEC, [], help_rows=help_rows)


def parse(data: bytes, *, edition: Edition, user) -> ParseResult:
    """Check every row against the database and the user's reach; nothing is written."""
    result = ParseResult()
    try:
        sheet = read_sheet(data, SPEC)
    except Rejected as exc:
        result.errors.append(exc.issue)
        return result
    result.sheet = sheet.title
    col = {c.key: sheet.headers.get(c.key, c.label) for c in SPEC.columns}
    raw = [(number, {key: cell_text(cells.get(key)) for key in col}) for number, cells in sheet.rows]
    codes = {v["school_code"] for _, v in raw if v["school_code"]}
    schools = {u.code: u for u in access.visible_schools(user).filter(code__in=codes)}
    standards = {s.code: s for s in Standard.objects.filter(edition=edition)}
    usernames = {v[k] for _, v in raw for k in ("owner", "leader") if v[k]}
    users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
    members = set(
        Membership.objects.filter(
            user__username__in=usernames, unit_id__in=[s.pk for s in schools.values()]
        ).values_list("user_id", "unit_id")
    )
    existing = {
        (a.school_id, a.standard_id): a
        for a in SchoolAssignment.objects.filter(school__in=schools.values(), standard__edition=edition)
    }
    seen: dict[tuple[str, str], int] = {}
    for number, v in raw:
        before = len(result.errors)
        school = schools.get(v["school_code"])
        if not v["school_code"]:
            result.error("学校代码不能为空", row=number, column=col["school_code"])
        elif school is None:
            result.error(
                f"学校代码“{shown(v['school_code'])}”不存在或不在您的管理范围内",
                row=number,
                column=col["school_code"],
            )
        elif v.get("school_name") and v["school_name"] != school.name:
            result.error(
                f"学校名称“{shown(v['school_name'])}”与学校代码对应的“{school.name}”不一致",
                row=number,
                column=col["school_name"],
            )
        standard = standards.get(v["standard_code"])
        if not v["standard_code"]:
            result.error("标准编号不能为空", row=number, column=col["standard_code"])
        elif standard is None:
            result.error(
                f"标准编号“{shown(v['standard_code'])}”在“{edition.name}”中不存在",
                row=number,
                column=col["standard_code"],
            )
        elif school is not None and not standard.applies_to(school.school_type):
            result.error(
                f"标准 {standard.code} 不适用于{school.get_school_type_display()}",
                row=number,
                column=col["standard_code"],
            )
        people = {}
        for key, label in (("owner", "责任人"), ("leader", "分管领导")):
            username = v[key]
            person = users.get(username) if username else None
            if not username:
                if key == "owner":
                    result.error("责任人用户名不能为空", row=number, column=col[key])
            elif person is None or not person.is_active:
                result.error(f"{label}用户名“{shown(username)}”不存在或已停用", row=number, column=col[key])
            elif school is not None and (person.pk, school.pk) not in members:
                result.error(f"{label}“{person}”不是{school.name}的人员", row=number, column=col[key])
            people[key] = person
        key = (v["school_code"], v["standard_code"])
        if key in seen:
            result.error(
                f"与第 {seen[key]} 行重复（同一学校、同一标准）", row=number, column=col["standard_code"]
            )
        seen.setdefault(key, number)
        if len(result.errors) > before:
            continue
        current = existing.get((school.pk, standard.pk))
        leader = people.get("leader")
        if current is None:
            action = "新增"
        elif (current.owner_id, current.leader_id) == (people["owner"].pk, getattr(leader, "pk", None)):
            action = "无变化"
        else:
            action = "更新"
        result.rows.append(
            Planned(number, school, standard, people["owner"], leader, action=action, current=current)
        )
    return result


def upload_create(*, edition: Edition, upload, actor) -> AssignmentUpload:
    """Store the upload and its preview; no assignment is written."""
    access.require(permissions.can_assign_bureau(actor))
    if edition.status == Edition.Status.DRAFT:
        raise ValidationError("草稿状态的测评体系不能分工，请先发布")
    data = staging.read_upload(upload)
    result = parse(data, edition=edition, user=actor)
    batch = AssignmentUpload(edition=edition, uploaded_by=actor)
    return staging.stage(batch=batch, upload=upload, data=data, result=result)


@transaction.atomic
def upload_apply(*, batch: AssignmentUpload, actor, request=None) -> ParseResult:
    """Re-read the stored file, re-check it and write every row, or none."""
    access.require(permissions.can_assign_bureau(actor))
    staging.require_uploader(batch=batch, actor=actor)
    batch = staging.lock_previewed(batch=batch, queryset=AssignmentUpload.objects.select_related("edition"))
    result = apply(staging.stored_bytes(batch), edition=batch.edition, actor=actor, request=request)
    staging.mark_outcome(batch=batch, result=result)
    return result


@transaction.atomic
def apply(data: bytes, *, edition: Edition, actor, request=None) -> ParseResult:
    """Parse and, if the whole file is clean, write it; otherwise write nothing."""
    access.require(permissions.can_assign_bureau(actor))
    if edition.status == Edition.Status.DRAFT:
        raise ValidationError("草稿状态的测评体系不能分工，请先发布")
    result = parse(data, edition=edition, user=actor)
    if not result.ok:
        return result
    now = timezone.now()
    to_create, to_update = [], []
    for r in result.rows:
        if r.action == "新增":
            to_create.append(
                SchoolAssignment(school=r.school, standard=r.standard, owner=r.owner, leader=r.leader)
            )
        elif r.action == "更新":
            r.current.owner, r.current.leader, r.current.updated_at = r.owner, r.leader, now
            to_update.append(r.current)
    SchoolAssignment.objects.bulk_create(to_create, batch_size=500)
    SchoolAssignment.objects.bulk_update(to_update, ["owner", "leader", "updated_at"], batch_size=500)
    audit.record(
        "duty.import",
        actor=actor,
        request=request,
        obj=edition,
        data={"sheet": result.sheet, **result.counts()},
    )
    return result
