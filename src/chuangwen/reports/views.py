"""Pages of the dashboards and rankings: the city dashboard, the 大屏, a school's dashboard, the rankings
and their Excel export. Thin: filters → selectors/figures (through `dashboard`) → template.

Who sees what is in `selectors` (module docstring).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from chuangwen.org.models import Unit

from . import dashboard, rankings, selectors


def _filter_context(user, filters: selectors.Filters, campaigns: list | None = None) -> dict:
    return {
        "filters": filters,
        "campaigns": selectors.campaign_choices() if campaigns is None else campaigns,
        "rounds": selectors.round_choices(filters.campaign, user),
        "districts": selectors.districts(selectors.bureau_schools(user)),
        "school_types": Unit.SchoolType.choices,
    }


@login_required
def city(request):
    selectors.require_city(request.user)
    filters = selectors.filters_for(request.user, request.GET)
    data = dashboard.city_dashboard(user=request.user, filters=filters)
    context = _filter_context(request.user, filters) | {"data": data, "query": filters.query()}
    return render(request, "reports/city.html", context)


@login_required
def screen(request):
    selectors.require_city(request.user)
    filters = selectors.filters_for(request.user, request.GET)
    data = dashboard.city_dashboard(user=request.user, filters=filters, with_coverage=False)
    return render(
        request, "reports/screen.html", {"data": data, "filters": filters, "query": filters.query()}
    )


@login_required
def school(request, school_id: int):
    unit = selectors.school_for(request.user, school_id)
    as_bureau = selectors.sees_as_bureau(request.user, unit)
    filters = selectors.filters_for(request.user, request.GET)
    data = dashboard.school_dashboard(user=request.user, school=unit, filters=filters, as_bureau=as_bureau)
    tasks = dashboard.school_tasks(user=request.user, school=unit, campaign=filters.campaign)
    context = {
        "unit": unit,
        "data": data,
        "tasks": tasks,
        "as_bureau": as_bureau,
        "filters": filters,
        "campaigns": selectors.campaign_choices(),
        "rounds": selectors.round_choices(filters.campaign, request.user),
    }
    return render(request, "reports/school.html", context)


@login_required
def ranking_list(request):
    selectors.require_city(request.user)
    campaigns = selectors.campaign_choices()  # read once: for the dropdown and to pick the campaign
    filters = selectors.filters_for(request.user, request.GET, campaigns=campaigns)
    # Links reversed once, rows built as escaped HTML in rankings.Ranked.row_html (not per-cell templating)
    # and joined into one string (not a template loop over 200 rows).
    school_base = reverse("reports:school", args=[1]).removesuffix("1/")
    # The ledger list of what the ranking covers (campaign, round, district, type), for each school's numbers.
    ledger = escape(dashboard.ledger_url(**dashboard.ledger_scope(filters)))
    ledger_base = ledger if ledger.endswith("?") else ledger + "&amp;"
    rows = mark_safe(  # noqa: S308 (every text is escaped in row_html)
        "\n".join(
            r.row_html(school_base=school_base, ledger_base=ledger_base) for r in rankings.ranked(filters)
        )
    )
    context = _filter_context(request.user, filters, campaigns) | {
        "rows": rows,
        "sorts": selectors.SORTS,
        "sort_links": [(key, label, filters.query(sort=key)) for key, label in selectors.SORTS.items()],
        "query": filters.query(),
    }
    return render(request, "reports/rankings.html", context)


@login_required
def ranking_export(request):
    selectors.require_city(request.user)
    filters = selectors.filters_for(request.user, request.GET)
    return rankings.export_response(filters, request=request)
