"""The demo city's campaign: the reference edition, named people at every school and department, and
responsibility assigned by rule, so that 项项有人抓 is visible on a fresh install.

Idempotent like the city: a second run creates nothing and records nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction

from chuangwen.core import audit
from chuangwen.core.roles import Role

from .city import DEPARTMENTS, SEED, _person_name

DEPARTMENT_HEAD_TITLE = "科长"


@dataclass
class CampaignReport:
    edition: str = ""
    people_created: int = 0
    assignments_created: int = 0
    bureau_assigned: int = 0
    applicable: int = 0
    owned: int = 0
    skipped_schools: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.people_created or self.assignments_created or self.bureau_assigned)


def _ensure_people(rng: random.Random) -> int:
    """Give every school a 学校一把手 and a 创文联络员, and every department a 科室负责人, where missing.

    These people have no usable password (they are named owners, not demo logins); an administrator can
    set one in 用户管理.
    """
    from chuangwen.accounts.models import User
    from chuangwen.org.models import Membership, Unit

    wanted: list[tuple[Unit, str, str, str]] = []  # unit, role, username, title
    held = set(Membership.objects.values_list("unit_id", "role"))
    for school in Unit.objects.filter(kind=Unit.Kind.SCHOOL).order_by("code"):
        if (school.pk, Role.SCHOOL_HEAD) not in held:
            wanted.append((school, Role.SCHOOL_HEAD, f"xz{school.code}", "校长"))
        if (school.pk, Role.LIAISON) not in held:
            wanted.append((school, Role.LIAISON, f"ll{school.code}", "创文专干"))
    for position, name in enumerate(DEPARTMENTS, start=1):
        department = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, name=name).first()
        if department is not None and (department.pk, Role.DEPT_HEAD) not in held:
            wanted.append((department, Role.DEPT_HEAD, f"ks{position:02d}", DEPARTMENT_HEAD_TITLE))
    if not wanted:
        return 0
    existing = {u.username: u for u in User.objects.filter(username__in=[w[2] for w in wanted])}
    new_users = []
    for _, _, username, _ in wanted:
        if username not in existing:
            user = User(username=username, name=_person_name(rng, 0.5))
            user.set_unusable_password()
            new_users.append(user)
    User.objects.bulk_create(new_users)
    users = {u.username: u for u in User.objects.filter(username__in=[w[2] for w in wanted])}
    Membership.objects.bulk_create(
        [
            Membership(user=users[username], unit=unit, role=role, title=title)
            for unit, role, username, title in wanted
        ]
    )
    return len(wanted)


def build_demo_campaign(*, seed: int = SEED) -> CampaignReport:
    from chuangwen.accounts.models import User
    from chuangwen.duty import services as duty
    from chuangwen.duty.models import BureauAssignment, SchoolAssignment
    from chuangwen.index.models import Standard
    from chuangwen.index.reference import load_reference_edition
    from chuangwen.org.models import Membership, Unit

    report = CampaignReport()
    admin = User.objects.get(username="admin")
    with transaction.atomic():
        report.people_created = _ensure_people(random.Random(seed + 1))  # noqa: S311 (demo names, not secrets)
        edition = load_reference_edition(actor=admin, publish=True)
        report.edition = edition.name
        standards = list(Standard.objects.filter(edition=edition).select_related("lead_department"))
        schools = list(
            Unit.objects.filter(kind=Unit.Kind.SCHOOL, is_active=True).values_list("school_type", flat=True)
        )
        report.applicable = sum(1 for s in standards for t in schools if t in s.school_types)
        owned = SchoolAssignment.objects.filter(standard__edition=edition).count()
        if owned < report.applicable:
            result = duty.assign_by_rule(edition=edition, actor=admin)
            report.assignments_created = result.created
            report.skipped_schools = result.schools_without_owner
        heads = dict(
            Membership.objects.filter(role=Role.DEPT_HEAD, unit__kind=Unit.Kind.DEPARTMENT)
            .order_by("created_at")
            .values_list("unit_id", "user_id")
        )
        assigned = set(
            BureauAssignment.objects.filter(standard__edition=edition).values_list("standard_id", flat=True)
        )
        people = {u.pk: u for u in User.objects.filter(pk__in=heads.values())}
        for standard in standards:
            if standard.pk in assigned or standard.lead_department_id is None:
                continue
            person = people.get(heads.get(standard.lead_department_id))
            duty.bureau_assignment_set(standard=standard, person=person, actor=admin)
            report.bureau_assigned += 1
        report.owned = SchoolAssignment.objects.filter(standard__edition=edition).count()
        if report.people_created:
            audit.record("demo.people", actor=admin, data={"created": report.people_created})
    return report
