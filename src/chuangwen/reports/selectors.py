"""Who sees which dashboard, and the filters every dashboard page and endpoint share.

- The city dashboard, the 大屏 and the rankings: bureau roles (系统管理员, 局领导, 创文办, 科室负责人,
  督查员), over the schools in their bureau reach (the whole city for a role held on the bureau).
  School roles get 403: rankings reach schools through the bulletins (通报), and each school sees its
  own rank on its own dashboard.
- A school's dashboard: bureau roles for any school in their reach; the school's own people (一把手,
  联络员, 资料员, 教师) for their school only. Any other school answers 404, as if it did not exist.

Scoping goes through `chuangwen.core.access` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet
from django.http import Http404

from chuangwen.campaigns.models import Campaign, Round
from chuangwen.campaigns.selectors import visible_rounds
from chuangwen.core import access
from chuangwen.core.roles import BUREAU_ROLES, SCHOOL_ROLES
from chuangwen.org.models import Unit

from . import figures

SORTS = {
    "score": "得分",
    "rate": "整改率",
    "overdue": "逾期问题",
}


def can_view_city(user) -> bool:
    return access.scope_of(user).everything or access.is_bureau_staff(user)


def require_city(user) -> None:
    access.require(can_view_city(user))


def bureau_schools(user) -> QuerySet | None:
    """Active schools in the user's bureau reach; None when that is every school (no filter needed)."""
    if access.reaches_every_unit(user, BUREAU_ROLES):
        return None
    schools = Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
    return access.filter_by_reach(schools, user, path_field="path", roles=BUREAU_ROLES)


def school_for(user, school_id: int) -> Unit:
    """The school, if the user may see its dashboard; 404 otherwise (other schools do not exist)."""
    school = (
        Unit.objects.filter(pk=school_id, kind=Unit.Kind.SCHOOL, is_active=True)
        .select_related("parent")
        .first()
    )
    if school is None or not access.reaches(user, school, BUREAU_ROLES | SCHOOL_ROLES):
        raise Http404("学校不存在或无权查看")
    return school


def sees_as_bureau(user, school: Unit) -> bool:
    """Whether the user reaches the school through a bureau role (else: as one of its own people)."""
    return access.reaches(user, school, BUREAU_ROLES)


def districts(schools: QuerySet | None = None) -> QuerySet:
    """The districts to filter by, and the bureau itself when schools sit directly under it (市直)."""
    with_schools = Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True) if schools is None else schools
    qs = Unit.objects.filter(is_active=True, pk__in=with_schools.values("parent_id"))
    qs = qs.filter(kind__in=[Unit.Kind.DISTRICT, Unit.Kind.BUREAU])
    return qs.order_by("kind", "path")  # "bureau" sorts before "district": 市直 first


def district_label(unit: Unit | None) -> str:
    if unit is None:
        return ""
    return "市直" if unit.kind == Unit.Kind.BUREAU else unit.name


class FilterForm(forms.Form):
    """The dashboards' filters. Bad values are dropped: a filter link never crashes a page."""

    campaign = forms.IntegerField(required=False, min_value=1)
    round = forms.IntegerField(required=False, min_value=1)
    district = forms.IntegerField(required=False, min_value=1)
    school_type = forms.ChoiceField(choices=[("", "全部类型"), *Unit.SchoolType.choices], required=False)
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False)

    def values(self) -> dict:
        """The valid filters; invalid ones are left out."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields if name in self.cleaned_data}


@dataclass(frozen=True)
class Filters:
    campaign: Campaign | None
    round: Round | None
    district: Unit | None
    school_type: str
    sort: str
    schools: QuerySet | None  # the schools the figures cover (reach ∩ district ∩ type); None = all

    @property
    def district_label(self) -> str:
        return district_label(self.district)

    @property
    def school_type_label(self) -> str:
        return dict(Unit.SchoolType.choices).get(self.school_type, "")

    def query(self, **changes) -> str:
        """The filters as a query string (for links that keep them), with `changes` applied."""
        from urllib.parse import urlencode

        params = {
            "campaign": self.campaign.pk if self.campaign else "",
            "round": self.round.pk if self.round else "",
            "district": self.district.pk if self.district else "",
            "school_type": self.school_type,
            "sort": self.sort if self.sort != "score" else "",
        }
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def filters_for(user, params, *, campaigns: list[Campaign] | None = None) -> Filters:
    """Read the filters from GET parameters (a QueryDict or dict): the campaign asked for, else the active
    one; a round only of that campaign; a district only within the user's reach. `campaigns`: every
    campaign as `campaign_choices` gives them, when the page reads them anyway (then picked from them)."""
    data = FilterForm(params).values()
    campaign = None
    if campaigns is not None:
        campaign = next((c for c in campaigns if data.get("campaign") and c.pk == data["campaign"]), None)
        active = (c for c in campaigns if c.status == Campaign.Status.ACTIVE)  # same order as active_campaign
        campaign = campaign or next(active, None)
    else:
        if data.get("campaign"):
            campaign = Campaign.objects.select_related("edition").filter(pk=data["campaign"]).first()
        campaign = campaign or figures.active_campaign()
    round_ = None
    if campaign is not None and data.get("round"):
        round_ = round_choices(campaign, user).filter(pk=data["round"]).first()
    reach = bureau_schools(user)
    district = None
    if data.get("district"):
        district = districts(reach).filter(pk=data["district"]).first()
    if district is None and reach is not None:
        # A district's own staff (a 区县创文办) see their district: named as such, not as "全市".
        paths = access.scope_of(user).paths(BUREAU_ROLES)
        if len(paths) == 1:
            district = Unit.objects.filter(kind=Unit.Kind.DISTRICT, path=paths[0]).first()
    school_type = data.get("school_type") or ""
    schools = reach
    if district is not None or school_type:
        schools = (
            schools if schools is not None else Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True)
        )
        if district is not None:
            schools = schools.filter(parent=district)
        if school_type:
            schools = schools.filter(school_type=school_type)
    return Filters(
        campaign=campaign,
        round=round_,
        district=district,
        school_type=school_type,
        sort=data.get("sort") or "score",
        schools=schools,
    )


def campaign_choices() -> list[Campaign]:
    """Every campaign, latest first (the order `figures.active_campaign` picks the active one in)."""
    return list(Campaign.objects.select_related("edition").order_by("-start_date", "-pk"))


def round_choices(campaign: Campaign | None, user) -> QuerySet:
    """The campaign's rounds the user may see (campaigns.selectors.visible_rounds: an unannounced round
    stays hidden from a school until it is over there)."""
    if campaign is None:
        return Round.objects.none()
    return visible_rounds(user).filter(campaign=campaign).order_by("start_date", "pk")
