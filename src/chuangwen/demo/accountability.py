"""The demo campaign's bulletins and accountability records, so those pages are not empty on a fresh install:

- an issued 通报 of the mock round (numbered, in the inspected schools' inboxes; its Word and PDF files are
  rendered when first downloaded, then cached, as in real use) and its 通报表扬 / 通报批评 records;
- a draft 工作通报 of the last seven days, for the campaign office to edit and issue;
- a 约谈 of the demo school about its overdue problems, awaiting its 学校一把手's acknowledgement;
- 黄牌 from the card rules: the rules start on the mock round's first day, so the periods since then are
  evaluated over the (backdated) ledger as the worker would, and give the cards the data earns.

Everything goes through the bulletins and accountability services (audit events, notifications). Runs
after `problems.build_demo_problems`; idempotent: once the campaign has a bulletin, nothing is done.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .city import DEMO_SCHOOL
from .problems import CAMPAIGN_NAME

NUMBER_PREFIX = "清教体创文"
ISSUER = "清河市教育体育局"
HEADER = "清河市教育体育局创文工作通报"
ADDRESSEE = "各区教育局，局属各学校："
COMMEND = 2
TALK_PLACE = "市教体局三楼会议室"
TALK_PEOPLE = "创文办主任李晓燕，思想政治与德育科科长"


@dataclass
class AccountabilityReport:
    created: bool = False
    issued: str = ""  # the issued bulletin's number
    drafts: int = 0
    records: dict[str, int] = field(default_factory=dict)  # kind label → count
    seconds: float = 0.0


def _next_working_afternoon(today: dt.date) -> dt.datetime:
    """15:00 on the next working day (the Chinese calendar, 调休 included)."""
    from chuangwen.core.calendar import add_working_days

    return timezone.make_aware(dt.datetime.combine(add_working_days(today, 1), dt.time(15)))


def build_demo_accountability() -> AccountabilityReport:
    from chuangwen.accountability import cards
    from chuangwen.accountability.models import Kind, Record
    from chuangwen.accountability.receivers import records_from_bulletin
    from chuangwen.accountability.services import record_create
    from chuangwen.accounts.models import User
    from chuangwen.bulletins import services as bulletins
    from chuangwen.bulletins.models import Bulletin
    from chuangwen.campaigns.models import Campaign, Round
    from chuangwen.ledger.models import Problem, Status
    from chuangwen.org.models import Unit

    report = AccountabilityReport()
    campaign = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
    if campaign is None or Bulletin.objects.filter(campaign=campaign).exists():
        return report
    started = time.monotonic()
    office = User.objects.get(username="office")
    mock = campaign.rounds.get(kind=Round.Kind.MOCK)
    school = Unit.objects.get(kind=Unit.Kind.SCHOOL, name=DEMO_SCHOOL)
    today = timezone.localdate()

    with transaction.atomic():
        # 1. The city's bulletin settings, then the mock round's bulletin, issued with the suggested
        # criticised schools; when no top-ranked school is free of overdue problems (the suggestion's
        # rule), the best-ranked ones that are.
        bulletins.settings_save(
            actor=office,
            number_prefix=NUMBER_PREFIX,
            issuer_name=ISSUER,
            header_text=HEADER,
            addressee=ADDRESSEE,
        )
        issued = bulletins.bulletin_create(campaign=campaign, round=mock, actor=office)
        if not issued.commended.exists():
            ranked = [r for r in issued.content.get("ranking", []) if r["rank"] is not None]
            best = [
                r["school_id"]
                for r in sorted(ranked, key=lambda r: (r["rank"], r["name"]))
                if not r["vetoed"] and not r["overdue"]
            ]
            criticised = set(issued.criticised.values_list("pk", flat=True))
            bulletins.bulletin_update(
                bulletin=issued, actor=office, commended=[s for s in best if s not in criticised][:COMMEND]
            )
        issued = bulletins.bulletin_issue(bulletin=issued, actor=office)
        report.issued = issued.number
        # Issuing makes the records once the transaction commits (the bulletin_issued signal); made here
        # directly so they exist inside an enclosing transaction too (the signal then finds them made).
        records_from_bulletin(bulletin_id=issued.pk)

        # 2. A draft of the last seven days, for the office to edit and issue.
        bulletins.bulletin_create(
            campaign=campaign,
            period_start=today - dt.timedelta(days=7),
            period_end=today - dt.timedelta(days=1),
            actor=office,
        )
        report.drafts = 1

        # 3. A 约谈 of the demo school about its overdue problems, for its head to acknowledge.
        overdue = list(
            Problem.objects.filter(
                school=school,
                status__in=[Status.ASSIGNED, Status.IN_PROGRESS],
                deadline__lt=timezone.now(),
            ).order_by("deadline", "pk")[:5]
        )
        record_create(
            kind=Kind.TALK,
            unit=school,
            reason=(
                f"第一次模拟测评发现的问题中有 {len(overdue)} 个逾期未整改，"
                "约谈学校主要负责人，督促落实整改责任、限期销号"
            ),
            date=today,
            actor=office,
            problems=overdue,
            talk_at=_next_working_afternoon(today),
            talk_place=TALK_PLACE,
            talk_people=TALK_PEOPLE,
        )

        # 4. Cards by the rules, from the mock round's first day: the periods over by today are evaluated.
        cards.card_rules_save(
            values={
                "enabled": True,
                "threshold": 3,
                "period_days": 10,
                "repeat_days": 30,
                "start_date": mock.start_date,
            },
            actor=office,
        )
        cards.cards_evaluate()

    labels = dict(Kind.choices)
    for kind in Kind.values:
        n = Record.objects.filter(kind=kind).count()
        if n:
            report.records[labels[kind]] = n
    report.created = True
    report.seconds = time.monotonic() - started
    return report
