"""Chinese 422s for input the schemas refuse (pydantic's errors), naming the field and saying why.

pydantic (through django-ninja) reports a bad field as `{"type": "greater_than", "loc": [...], "ctx":
{"gt": 0}, "msg": "Input should be greater than 0"}`. The API answers the same shape as a service's
refusal instead, `{"detail": {"deadline_days": ["整改工作日数（deadline_days）须不小于 1"]}}`: the key is the
field's path in the request (`milestones.0.due_date` inside a body), the message names the field by its
schema title or description (the first clause), else by the table below, and says what is wrong in
Chinese. An error type not in the table still gets a Chinese message ("取值无效").
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from decimal import Decimal

import pydantic

# Labels of fields whose schemas carry no title or description (the most common names across the routers).
FIELD_LABELS = {
    "answer_id": "评分 id",
    "assign": "是否立即交办",
    "assignee_id": "负责人 id",
    "bulletin_id": "通报 id",
    "campaign": "创建周期 id",
    "campaign_id": "创建周期 id",
    "cause": "问题原因",
    "class_id": "班级 id",
    "code": "编号",
    "date": "日期",
    "date_from": "起始日期",
    "date_to": "截止日期",
    "deadline": "整改时限",
    "deadline_days": "整改工作日数",
    "default_days": "限期整改默认工作日数",
    "description": "问题描述",
    "district": "区县 id",
    "due_date": "完成日期",
    "edition": "测评体系版本 id",
    "edition_id": "测评体系版本 id",
    "end_date": "结束日期",
    "file": "文件",
    "ids": "问题 id 列表",
    "inspection_id": "检查 id",
    "inspector_ids": "检查人员 id 列表",
    "kind": "类型",
    "label": "说明",
    "ladder": "逾期升级规则",
    "location": "位置",
    "measures": "整改措施",
    "milestone_id": "整改节点 id",
    "milestones": "整改节点",
    "move": "操作",
    "name": "名称",
    "note": "说明",
    "occurrences": "次数",
    "page": "页码",
    "partial": "是否部分提交",
    "payload": "请求体",
    "period_end": "期末日期",
    "period_start": "期初日期",
    "problem_id": "问题 id",
    "problem_ids": "问题 id 列表",
    "purpose": "照片用途",
    "q": "关键词",
    "reason": "原因",
    "record_id": "记录 id",
    "remind_daily": "每个工作日重复提醒",
    "responsible": "责任人 id",
    "responsible_id": "责任人 id",
    "result": "结果",
    "revision": "修订次数",
    "roles": "通知对象",
    "round": "检查轮次 id",
    "round_id": "检查轮次 id",
    "sample_size": "抽样数",
    "school": "学校 id",
    "school_id": "学校 id",
    "school_ids": "学校 id 列表",
    "school_type": "学校类型",
    "severity": "整改类型",
    "source": "发现方式",
    "standard": "标准 id",
    "standard_code": "标准编号",
    "standard_id": "标准 id",
    "start_date": "开始日期",
    "status": "状态",
    "target_date": "目标日期",
    "task_id": "任务 id",
    "title": "标题",
    "unit_id": "单位 id",
    "after": "逾期后第几个工作日",
    "bulletin": "列入通报",
    "yellow_ratio": "临期比例",
    "yellow_min_hours": "临期最少小时数",
}
DATE = "须是日期，格式为 YYYY-MM-DD（如 2026-05-01）"
DATETIME = "须是日期时间，格式如 2026-05-01T17:00:00+08:00（不带时区按北京时间）"
MESSAGES = {
    "missing": "必须填写",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "multiple_of": "须是 {multiple_of} 的整数倍",
    "int_parsing": "须是整数",
    "int_type": "须是整数",
    "int_from_float": "须是整数，不能带小数",
    "int_parsing_size": "数值过大",
    "float_parsing": "须是数字",
    "float_type": "须是数字",
    "finite_number": "须是有限的数字",
    "decimal_parsing": "须是数字（可带小数）",
    "decimal_type": "须是数字（可带小数）",
    "decimal_max_digits": "最多 {max_digits} 位数字",
    "decimal_max_places": "最多 {decimal_places} 位小数",
    "decimal_whole_digits": "整数部分最多 {whole_digits} 位",
    "string_type": "须是文字（字符串）",
    "string_unicode": "须是有效的 Unicode 文字",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "不能超过 {max_length} 字",
    "string_pattern_mismatch": "格式不正确",
    "bool_parsing": "须是 true 或 false",
    "bool_type": "须是 true 或 false",
    "list_type": "须是列表（JSON 数组）",
    "tuple_type": "须是列表（JSON 数组）",
    "set_type": "须是列表（JSON 数组）",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "dict_type": "须是 JSON 对象",
    "model_type": "须是 JSON 对象",
    "model_attributes_type": "须是 JSON 对象",
    "extra_forbidden": "不是可用的字段",
    "date_parsing": DATE,
    "date_type": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": "须是日期，不带时间，格式为 YYYY-MM-DD",
    "datetime_parsing": DATETIME,
    "datetime_type": DATETIME,
    "datetime_from_date_parsing": DATETIME,
    "datetime_object_invalid": DATETIME,
    "time_parsing": "须是时间，格式为 HH:MM",
    "time_type": "须是时间，格式为 HH:MM",
    "timezone_naive": "不能带时区",
    "timezone_aware": "须带时区",
    "enum": "只能是：{expected}",
    "literal_error": "只能是：{expected}",
    "uuid_parsing": "须是 UUID",
    "uuid_type": "须是 UUID",
    "url_parsing": "须是网址",
    "url_type": "须是网址",
    "url_scheme": "须是 http 或 https 网址",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "is_instance_of": "类型不正确",
    "union_tag_invalid": "类型不正确",
    "bytes_too_long": "内容过长",
}
FALLBACK = "取值无效"


def _number(value) -> str:
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def reason(error: dict) -> str:
    """What is wrong, in Chinese, from one pydantic error (its `type` and `ctx`)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in {"value_error", "assertion_error"}:
        text = str(ctx.get("error") or "").removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return text if text and not text.isascii() else FALLBACK
    template = MESSAGES.get(kind)
    if template is None:
        return FALLBACK
    values = {k: _number(v) for k, v in ctx.items()}
    if "expected" in values:
        values["expected"] = values["expected"].replace("' or '", "、").replace("', '", "、").replace("'", "")
    if kind == "string_too_short" and values.get("min_length") == "1":
        return "不能为空"
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return FALLBACK


def _models_in(annotation) -> Iterable[type[pydantic.BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, list[...], Annotated[...])."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is None:
        return
    for arg in typing.get_args(annotation):
        if origin is typing.Annotated and arg is not typing.get_args(annotation)[0]:
            continue
        yield from _models_in(arg)


def _label_of(field: pydantic.fields.FieldInfo | None, name: str) -> str:
    if field is not None:
        if field.title:
            return field.title
        if field.description:
            text = field.description
            for stop in ("，", "（", "：", "；", ",", "(", ":"):
                text = text.split(stop, 1)[0]
            if text.strip():
                return text.strip()
    return FIELD_LABELS.get(name, "")


def field_label(model: type[pydantic.BaseModel], loc: tuple) -> str:
    """The label of the field at `loc` (pydantic's own location, inside `model`), or ''."""
    current: list[type[pydantic.BaseModel]] = [model]
    label = ""
    for part in loc:
        if not isinstance(part, str):
            continue  # a list index: the models stay the same
        field = next((m.model_fields[part] for m in current if part in m.model_fields), None)
        if field is None:
            return FIELD_LABELS.get(part, "")
        label = _label_of(field, part)
        current = list(_models_in(field.annotation)) or current
    return label


def message(model: type[pydantic.BaseModel], raw_loc: tuple, path: str, error: dict) -> str:
    """One error as a sentence naming the field: 整改工作日数（deadline_days）须不小于 1."""
    why = reason(error)
    if not path:
        return "请求体（JSON 对象）" + why
    label = field_label(model, raw_loc)
    name = f"{label}（{path}）" if label and label != path else path
    return f"{name}{why}" if why[0] in "须不至最只是必" else f"{name}：{why}"


def path_of(loc: Iterable, *, body_param: str | None = None) -> str:
    """`("body", "payload", "milestones", 0, "title")` → `milestones.0.title`; `("query", "page")` → `page`.

    The source (body, query, path, form, file) is dropped, and so is the name of the endpoint's single
    body parameter (`payload`), which is not part of what the client sends.
    """
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "form", "file", "header", "cookie"}:
        source, parts = parts[0], parts[1:]
        if source == "body" and body_param and parts and parts[0] == body_param:
            parts = parts[1:]
    return ".".join(parts)


def chinese_errors(error_contexts) -> list[dict]:
    """ninja's error contexts as `{"field": path, "message": ...}` rows (see module docstring)."""
    rows = []
    for context in error_contexts:
        model = context.model
        flatten = getattr(model, "__ninja_flatten_map_reverse__", {})
        source = getattr(model, "__ninja_param_source__", "")
        body_param = getattr(model, "__read_from_single_attr__", None)
        for error in context.pydantic_validation_error.errors(include_url=False):
            raw_loc = tuple(error["loc"])
            path = path_of((source, *_flattened(raw_loc, flatten)), body_param=body_param)
            rows.append({"field": path, "message": message(model, raw_loc, path, error)})
    return rows


def _flattened(raw_loc: tuple, flatten: dict) -> tuple:
    """A query schema's fields are sent flat (`?school=`): its location without the parameter's name."""
    for cut in range(len(raw_loc), 0, -1):
        if raw_loc[:cut] in flatten:
            return (*flatten[raw_loc[:cut]], *raw_loc[cut:])
    return raw_loc


def as_detail(errors: list[dict]) -> dict[str, list[str]]:
    """`{field: [message, ...]}`, the shape of a service's refusal; rows ninja built itself (without our
    override) are translated by type, without a label."""
    detail: dict[str, list[str]] = {}
    for row in errors:
        if "message" in row:
            field, text = row["field"], row["message"]
        else:
            field = path_of(row.get("loc") or ())
            text = f"{field}：{reason(row)}" if field else reason(row)
        messages = detail.setdefault(field or "__all__", [])
        if text not in messages:
            messages.append(text)
    return detail
