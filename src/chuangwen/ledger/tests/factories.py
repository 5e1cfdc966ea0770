"""Builders for the inspections and ledger tests: a small published edition, a round in progress over
school_a with an inspector, owners for the standards at school_a, and problems made through the services."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chuangwen.core.roles import Role
from chuangwen.index.models import Edition, Group, ScoringKind, Standard

_counter = itertools.count(1)
ALL_TYPES = ["primary", "junior", "nine_year", "senior", "complete", "vocational", "special", "kindergarten"]


@dataclass
class Setup:
    edition: Edition
    standards: dict  # code -> Standard
    round: object
    campaign: object


def make_edition() -> tuple[Edition, dict]:
    """Four standards: graded (4 points), pass/fail (2), per-occurrence deduction (4), a veto item (1)."""
    n = next(_counter)
    edition = Edition.objects.create(name=f"台帐测评体系{n}", code=f"ledger-{n}")
    group = Group.objects.create(edition=edition, code="1", title="校园环境", depth=1)
    rows = [
        ("1.1", "校园环境整洁，无卫生死角", "4", ScoringKind.GRADE, {}, False),
        ("1.2", "公益广告张贴规范", "2", ScoringKind.PASS_FAIL, {}, False),
        ("1.3", "无乱贴乱画", "4", ScoringKind.DEDUCTION, {"per": 1, "cap": 4}, False),
        ("1.4", "未发生食品安全事故", "1", ScoringKind.PASS_FAIL, {}, True),
    ]
    standards = {}
    for i, (code, text, points, kind, params, veto) in enumerate(rows):
        standards[code] = Standard.objects.create(
            edition=edition,
            group=group,
            code=code,
            text=text,
            points=Decimal(points),
            methods=["site"],
            school_types=ALL_TYPES,
            scoring_kind=kind,
            scoring_params=params,
            negative_list=veto,
            position=i,
            check_protocol=f"检查方法{code}",
        )
    Edition.objects.filter(pk=edition.pk).update(status=Edition.Status.PUBLISHED)
    edition.refresh_from_db()
    return edition, standards


def make_setup(
    city, *, kind: str = "mock", status: str = "in_progress", owner_role: str = Role.TEACHER
) -> Setup:
    """A round of `kind` over school_a and school_c, the inspector assigned, owners at school_a."""
    from chuangwen.campaigns import services as campaigns
    from chuangwen.duty.models import SchoolAssignment

    edition, standards = make_edition()
    office = city.users[Role.OFFICE]
    campaign = campaigns.campaign_create(
        name=f"台帐周期{next(_counter)}",
        edition=edition,
        start_date=__import__("datetime").date(2026, 9, 1),
        end_date=__import__("datetime").date(2027, 7, 31),
        actor=office,
    )
    round_ = campaigns.round_create(
        campaign=campaign,
        kind=kind,
        name=f"台帐轮次{next(_counter)}",
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        schools=[city.school_a, city.school_c],
        inspectors=[city.users[Role.INSPECTOR]],
        actor=office,
    )
    path = ["planned", "in_progress", "finished"]
    for to in path[1 : path.index(status) + 1]:
        round_ = campaigns.round_transition(round_=round_, to=to, actor=office)
    for standard in standards.values():
        SchoolAssignment.objects.create(school=city.school_a, standard=standard, owner=city.users[owner_role])
    return Setup(edition=edition, standards=standards, round=round_, campaign=campaign)


def jpeg(color=(200, 30, 30), size=(64, 48), name: str = "photo.jpg") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def noisy_jpeg(seed: int, name: str = "photo.jpg") -> SimpleUploadedFile:
    """A photo with random content, so two seeds give two clearly different perceptual hashes."""
    import random

    rnd = random.Random(seed)
    img = Image.new("RGB", (96, 72))
    img.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(96 * 72)])
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def make_problem(city, setup: Setup | None = None, *, school=None, code: str = "1.1", actor=None, **kwargs):
    from chuangwen.ledger.services import problem_create

    setup = setup or make_setup(city)
    return problem_create(
        school=school or city.school_a,
        standard=setup.standards[code],
        round_=setup.round,
        description=kwargs.pop("description", "操场东侧有垃圾未清理"),
        actor=actor or city.users[Role.INSPECTOR],
        **kwargs,
    )
