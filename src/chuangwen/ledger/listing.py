"""What the ledger list page reads besides its rows, kept cheap because the page is opened all day:
the filter dropdowns (schools, standards, rounds, people) and the total, both cached for a short time.

- The campaigns, schools, districts and the active edition's standards come from one catalogue shared by
  every user (CATALOGUE_TTL seconds, dropped at once in this process when a unit, standard, edition,
  campaign or round is saved or deleted); each user's schools and districts are picked from it by their
  reach in Python, so a user's first view costs no query for them. Across the processes of an embedded
  install without Redis a change shows within the TTL.
- Dropdown choices are cached per set of grants (users with the same roles on the same units share them)
  for CHOICES_TTL seconds, with their <option> HTML rendered once, under the catalogue's token: a new
  school or round shows at once in this process (its save drops the catalogue), within a minute in
  another; the rows themselves are never cached.
- The total is counted with the subquery form of the visibility rule and stops at COUNT_CAP + 1. A total
  of COUNT_CACHE_MIN or more is cached for COUNT_TTL seconds under a version that every problem save or
  delete changes, so a move shows in the total at once (within one process; across the processes of an
  embedded install without Redis, within COUNT_TTL). Small totals and the overdue filter (which changes
  with the clock) are always counted.
"""

from __future__ import annotations

import hashlib
import uuid
from html import escape

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Subquery
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from chuangwen.campaigns.models import Campaign
from chuangwen.campaigns.selectors import active_edition_id, visible_rounds
from chuangwen.core import access
from chuangwen.core.roles import BUREAU_ROLES, Role
from chuangwen.index.models import Standard
from chuangwen.org.models import Unit

from .forms import people_of

COUNT_CAP = 10_000
COUNT_CACHE_MIN = 1_000
COUNT_TTL = 30
CHOICES_TTL = 60
CATALOGUE_TTL = 60
CATALOGUE_KEY = "ledger:catalogue"
VERSION_KEY = "ledger:problems-version"


def _options(pairs) -> str:
    """<option>s for (value, label) pairs, every value and label escaped (html.escape, as Django's own
    escape does, without format_html's per-item overhead: 300 options cost ~2 ms that way)."""
    return mark_safe(  # noqa: S308 - every value and label is escaped here
        "".join(f'<option value="{escape(str(v))}">{escape(str(label))}</option>' for v, label in pairs)
    )


def _choices_key(user, bureau: bool, token: str) -> str:
    """The dropdowns depend on the user's grants only (plus, for an inspector, the rounds they are assigned
    to), so everyone with the same grants shares one entry: the office's staff, a school's liaisons."""
    scope = access.scope_of(user)
    grants = sorted((g.role, g.reach_path) for g in scope.grants)
    personal = user.pk if Role.INSPECTOR in scope.roles else ""
    digest = hashlib.sha256(repr((scope.everything, grants, personal)).encode()).hexdigest()[:32]
    return f"ledger:choices:{token}:{digest}:{int(bureau)}"


def catalogue() -> dict:
    """The schools (id, name, path; active ones, in path order) and the active campaign's standards as
    rendered <option>s: the same for everyone, read once per CATALOGUE_TTL (see the module docstring)."""
    found = cache.get(CATALOGUE_KEY)
    if found is not None:
        return found
    # Schools and districts in one query (path order), split here.
    schools, districts = [], []
    for kind, pk, name, path in (
        Unit.objects.filter(kind__in=[Unit.Kind.SCHOOL, Unit.Kind.DISTRICT], is_active=True)
        .order_by("path")
        .values_list("kind", "pk", "name", "path")
    ):
        (schools if kind == Unit.Kind.SCHOOL else districts).append((pk, name, path))
    # The active campaign's edition as a subquery: one query for the standards instead of two.
    standards = [
        (pk, f"{code} {text[:24]}")
        for pk, code, text in Standard.objects.filter(edition_id=Subquery(active_edition_id()))
        .order_by("position", "pk")
        .values_list("pk", "code", "text")
    ]
    campaigns = list(Campaign.objects.order_by("-start_date", "-pk").values_list("pk", "name"))
    found = {
        "schools": schools,
        "districts": districts,
        "campaigns": _options([("", "全部创建周期"), *campaigns]),
        # The city-wide users' dropdowns, rendered once here.
        "all_schools": _options([("", "全部学校"), *((pk, name) for pk, name, _ in schools)]),
        "all_districts": _options([("", "全部区县"), *((pk, name) for pk, name, _ in districts)]),
        "standards": _options([("", "全部标准"), *standards]),
        "token": uuid.uuid4().hex[:12],  # names the users' dropdown entries built from this catalogue
    }
    cache.set(CATALOGUE_KEY, found, CATALOGUE_TTL)
    return found


def catalogue_changed(**kwargs) -> None:
    """Signal receiver (units, standards, editions, campaigns, rounds and their schools and inspectors):
    drop the shared catalogue now and again on commit (a page may have read the rows as they were before
    the commit). Every user's dropdowns go with it: their cache keys carry the catalogue's token."""
    cache.delete(CATALOGUE_KEY)
    transaction.on_commit(lambda: cache.delete(CATALOGUE_KEY))


def _in_reach(user, units: list) -> list[tuple[int, str]]:
    """The catalogue's units (schools or districts) within the user's reach, as (id, name) pairs."""
    paths = tuple(access.scope_of(user).paths())
    return [(pk, name) for pk, name, path in units if path.startswith(paths)] if paths else []


def filter_choices(user, *, bureau: bool) -> dict:
    """The dropdowns' choices and their rendered options for this user (cached CHOICES_TTL seconds)."""
    shared = catalogue()
    key = _choices_key(user, bureau, shared["token"])
    found = cache.get(key)
    if found is not None:
        return found
    everywhere = bureau and access.reaches_every_unit(user, BUREAU_ROLES)
    rounds = list(visible_rounds(user).order_by("-start_date", "-pk").values_list("pk", "name")[:100])
    # School users pick among their school's people; bureau users choose a school first (see the page).
    people = (
        []
        if bureau
        else [(p.pk, p.name or p.username) for p in people_of(access.visible_schools(user).values("pk"))]
    )
    found = {
        "school": shared["all_schools"]
        if everywhere
        else _options([("", "全部学校"), *(_in_reach(user, shared["schools"]) if bureau else [])]),
        "district": shared["all_districts"]
        if everywhere
        else _options([("", "全部区县"), *(_in_reach(user, shared["districts"]) if bureau else [])]),
        "standard": shared["standards"],
        "campaign": shared["campaigns"],
        "round": _options([("", "全部轮次"), *rounds]),
        "people": people,
    }
    cache.set(key, found, CHOICES_TTL)
    return found


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY) or ""
    return version


def problems_changed(**kwargs) -> None:
    """Signal receiver: any problem saved or deleted makes every cached total stale (now, and again on
    commit, in case a page counted the rows as they were before the commit)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None))


def forget(user) -> None:
    """Drop what the list page keeps for this user: the dropdowns and every cached total."""
    token = catalogue()["token"]
    cache.delete_many([_choices_key(user, False, token), _choices_key(user, True, token)])
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def count(user, filters: dict) -> int:
    """The visible problems matching `filters`, counted up to COUNT_CAP + 1 (see the module docstring).
    The counting queryset is only built on a miss (building it costs more than a cache hit)."""
    from . import selectors

    cacheable = not filters.get("overdue")
    key = ""
    if cacheable:
        digest = hashlib.sha256(repr(sorted(filters.items())).encode()).hexdigest()
        key = f"ledger:count:{user.pk}:{_version()}:{digest}"
        hit = cache.get(key)
        if hit is not None:
            return hit
    counted_from = selectors.problem_list(user=user, counting=True, **filters)
    total = counted_from.order_by().values("pk")[: COUNT_CAP + 1].count()
    if cacheable and total >= COUNT_CACHE_MIN:
        cache.set(key, total, COUNT_TTL)
    return total


class CappedPaginator(Paginator):
    """A paginator whose total stops at COUNT_CAP: an exact total of 100,000 problems costs tens of ms on
    every page view and nobody pages that far. Beyond the cap the list says "10000+" and offers the first
    COUNT_CAP rows (filters narrow it; the export has everything)."""

    def __init__(self, object_list, per_page, *, total):
        super().__init__(object_list, per_page)
        self.total = total

    @cached_property
    def count(self) -> int:
        return min(self.total, COUNT_CAP)

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


def open_counts(user, *, now) -> dict:
    """Open / overdue / 待复核 counts of the problems the user may see, for the home page's panel: one
    aggregate, cached COUNT_TTL seconds under the same version as the list's totals (a move shows at
    once; a problem turning overdue by the clock shows within COUNT_TTL)."""
    from django.db.models import Count, Q

    from . import selectors
    from .models import Status

    key = f"ledger:open-counts:{user.pk}:{_version()}"
    found = cache.get(key)
    if found is not None:
        return found
    waiting = [Status.ASSIGNED, Status.IN_PROGRESS]
    found = (
        selectors.visible_problems(user, counting=True)
        .filter(status__in=[Status.NEW, *waiting, Status.PENDING_REVIEW])
        .aggregate(
            open=Count("pk", filter=Q(status__in=[Status.NEW, *waiting])),
            overdue=Count("pk", filter=Q(status__in=waiting, deadline__lt=now)),
            pending=Count("pk", filter=Q(status=Status.PENDING_REVIEW)),
        )
    )
    cache.set(key, found, COUNT_TTL)
    return found
