"""Pages of the evaluation index: edition list, browser, editor for drafts, diff. Thin: form → service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chuangwen.core import access
from chuangwen.core.forms import add_service_errors
from chuangwen.org.models import Unit

from . import selectors, services
from .diff import diff_editions
from .forms import EditionCopyForm, EditionForm, GroupForm, StandardForm
from .models import MAX_GROUP_DEPTH, Edition, Group, Method, Standard


def _edition(request, edition_id: int) -> Edition:
    return get_object_or_404(selectors.visible_editions(request.user), pk=edition_id)


def _managed_edition(request, edition_id: int) -> Edition:
    edition = _edition(request, edition_id)
    access.require(access.can_manage_index(request.user))
    return edition


def _refuse_locked(request, edition: Edition):
    """Send the user back to the browser with the reason when the edition is not a draft."""
    try:
        edition.ensure_draft()
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("index:edition_detail", edition.pk)
    return None


@login_required
def edition_list(request):
    return render(
        request,
        "index/edition_list.html",
        {
            "editions": selectors.edition_list(user=request.user),
            "can_manage": access.can_manage_index(request.user),
        },
    )


@login_required
def edition_detail(request, edition_id: int):
    edition = _edition(request, edition_id)
    filters = {
        "q": request.GET.get("q", "").strip(),
        "method": request.GET.get("method", ""),
        "school_type": request.GET.get("school_type", ""),
        "negative": request.GET.get("negative", "") == "1",
    }
    tree = selectors.edition_tree(edition, **filters)
    can_manage = access.can_manage_index(request.user)
    return render(
        request,
        "index/edition_detail.html",
        {
            "edition": edition,
            "tree": tree,
            "filters": filters,
            "methods": Method.choices,
            "school_types": Unit.SchoolType.choices,
            "can_manage": can_manage,
            "can_edit": can_manage and edition.is_draft,
            "max_depth": MAX_GROUP_DEPTH,
            "others": selectors.visible_editions(request.user).exclude(pk=edition.pk).only("name"),
            "publish_problems": services.publish_problems(edition) if can_manage and edition.is_draft else [],
        },
    )


@login_required
def edition_create(request):
    access.require(access.can_manage_index(request.user))
    form = EditionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            edition = services.edition_create(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已创建草稿“{edition.name}”。")
            return redirect("index:edition_detail", edition.pk)
    return render(request, "index/form.html", {"form": form, "title": "新建测评体系版本"})


@login_required
def edition_edit(request, edition_id: int):
    edition = _managed_edition(request, edition_id)
    if (refused := _refuse_locked(request, edition)) is not None:
        return refused
    form = EditionForm(request.POST or None, instance=Edition.objects.get(pk=edition.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.edition_update(edition=edition, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("index:edition_detail", edition.pk)
    return render(
        request, "index/form.html", {"form": form, "title": f"编辑：{edition.name}", "edition": edition}
    )


@login_required
def edition_copy(request, edition_id: int):
    edition = _edition(request, edition_id)
    access.require(access.can_manage_index(request.user))
    form = EditionCopyForm(
        request.POST or None, initial={"name": f"{edition.name}（副本）", "code": f"{edition.code}-copy"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.edition_copy(
                edition=edition, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已复制为草稿“{copy.name}”，可以修改后发布。")
            return redirect("index:edition_detail", copy.pk)
    return render(
        request,
        "index/form.html",
        {"form": form, "title": f"复制为新版本：{edition.name}", "edition": edition},
    )


def _transition(request, edition_id: int, to: str, done: str):
    edition = _managed_edition(request, edition_id)
    try:
        services.edition_transition(edition=edition, to=to, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("index:edition_detail", edition.pk)


@login_required
@require_POST
def edition_publish(request, edition_id: int):
    return _transition(request, edition_id, Edition.Status.PUBLISHED, "已发布。发布后的版本不能再修改。")


@login_required
@require_POST
def edition_archive(request, edition_id: int):
    return _transition(request, edition_id, Edition.Status.ARCHIVED, "已归档。")


@login_required
@require_POST
def edition_delete(request, edition_id: int):
    edition = _managed_edition(request, edition_id)
    try:
        services.edition_delete(edition=edition, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("index:edition_detail", edition.pk)
    messages.success(request, f"已删除草稿“{edition.name}”。")
    return redirect("index:edition_list")


# ---------------------------------------------------------------- groups


@login_required
def group_create(request, edition_id: int):
    edition = _managed_edition(request, edition_id)
    if (refused := _refuse_locked(request, edition)) is not None:
        return refused
    parent = None
    if request.GET.get("parent", "").isdigit():
        parent = get_object_or_404(Group, pk=int(request.GET["parent"]), edition=edition)
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_create(
                edition=edition, parent=parent, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "分组已添加。")
            return redirect("index:edition_detail", edition.pk)
    label = (
        "测评项目" if parent is None else f"“{parent}”下的{'测评内容' if parent.depth == 1 else '测评子项'}"
    )
    return render(request, "index/form.html", {"form": form, "title": f"添加{label}", "edition": edition})


def _group(request, group_id: int) -> Group:
    group = get_object_or_404(
        Group.objects.select_related("edition").filter(edition__in=selectors.visible_editions(request.user)),
        pk=group_id,
    )
    access.require(access.can_manage_index(request.user))
    return group


@login_required
def group_edit(request, group_id: int):
    group = _group(request, group_id)
    if (refused := _refuse_locked(request, group.edition)) is not None:
        return refused
    form = GroupForm(request.POST or None, initial={"code": group.code, "title": group.title})
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("index:edition_detail", group.edition_id)
    return render(
        request,
        "index/form.html",
        {"form": form, "title": f"编辑{group.level_label}：{group}", "edition": group.edition},
    )


@login_required
@require_POST
def group_delete(request, group_id: int):
    group = _group(request, group_id)
    try:
        services.group_delete(group=group, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已删除“{group}”及其下全部内容。")
    return redirect("index:edition_detail", group.edition_id)


@login_required
@require_POST
def group_move(request, group_id: int):
    group = _group(request, group_id)
    try:
        services.group_move(
            group=group, up=request.POST.get("direction") != "down", actor=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("index:edition_detail", group.edition_id)


# ---------------------------------------------------------------- standards


@login_required
def standard_create(request, group_id: int):
    group = _group(request, group_id)
    if (refused := _refuse_locked(request, group.edition)) is not None:
        return refused
    form = StandardForm(request.POST or None, initial={"scoring_kind": "grade"})
    if request.method == "POST" and form.is_valid():
        try:
            services.standard_create(
                group=group, actor=request.user, request=request, **form.service_fields()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "测评标准已添加。")
            return redirect("index:edition_detail", group.edition_id)
    return render(
        request,
        "index/standard_form.html",
        {"form": form, "title": f"在“{group}”下添加测评标准", "edition": group.edition},
    )


def _standard(request, standard_id: int) -> Standard:
    standard = get_object_or_404(
        Standard.objects.select_related("edition", "group").filter(
            edition__in=selectors.visible_editions(request.user)
        ),
        pk=standard_id,
    )
    access.require(access.can_manage_index(request.user))
    return standard


@login_required
def standard_edit(request, standard_id: int):
    standard = _standard(request, standard_id)
    if (refused := _refuse_locked(request, standard.edition)) is not None:
        return refused
    form = StandardForm(request.POST or None, initial=StandardForm.initial_for(standard))
    if request.method == "POST" and form.is_valid():
        try:
            services.standard_update(
                standard=standard, actor=request.user, request=request, **form.service_fields(standard)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"标准 {standard.code} 已保存。")
            return redirect("index:edition_detail", standard.edition_id)
    return render(
        request,
        "index/standard_form.html",
        {"form": form, "title": f"编辑测评标准 {standard.code}", "edition": standard.edition},
    )


@login_required
@require_POST
def standard_delete(request, standard_id: int):
    standard = _standard(request, standard_id)
    try:
        services.standard_delete(standard=standard, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已删除标准 {standard.code}。")
    return redirect("index:edition_detail", standard.edition_id)


@login_required
@require_POST
def standard_move(request, standard_id: int):
    standard = _standard(request, standard_id)
    try:
        services.standard_move(
            standard=standard, up=request.POST.get("direction") != "down", actor=request.user, request=request
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("index:edition_detail", standard.edition_id)


# ---------------------------------------------------------------- diff


@login_required
def edition_diff(request):
    visible = selectors.visible_editions(request.user)
    editions = list(visible.only("name", "status", "code"))
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    result = None
    if a_id and b_id:
        if not (a_id.isdigit() and b_id.isdigit()):
            return render(
                request,
                "index/diff.html",
                {"editions": editions, "error": "请选择两个版本"},
                status=400,
            )
        a = get_object_or_404(visible, pk=int(a_id))
        b = get_object_or_404(visible, pk=int(b_id))
        result = diff_editions(a, b)
    return render(
        request,
        "index/diff.html",
        {"editions": editions, "result": result, "a_id": a_id, "b_id": b_id},
    )
