"""`chuangwen demo`: create the demo city 清河市, or restore it to its demo values. Safe to run again."""

import unicodedata

from django.core.management.base import BaseCommand, CommandError

from chuangwen.demo.accountability import build_demo_accountability
from chuangwen.demo.campaign import build_demo_campaign
from chuangwen.demo.city import DEMO_PASSWORD, DemoDisabled, build_demo_city
from chuangwen.demo.problems import build_demo_problems
from chuangwen.demo.refresh import refresh_demo_clock
from chuangwen.ledger.models import Status

CHANGE_LABELS = {
    "units.created": "新建单位",
    "units.updated": "恢复单位",
    "classes.created": "新建班级",
    "classes.updated": "恢复班级",
    "classes.deleted": "删除多余班级",
    "users.created": "新建账号",
    "users.updated": "恢复账号",
    "roles.granted": "分配角色",
    "roles.updated": "恢复职务",
    "roles.revoked": "撤销多余角色",
    "lockouts.cleared": "清除登录失败记录",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


class Command(BaseCommand):
    help = (
        "创建或刷新演示城市“清河市”（教体局、科室、3 个区县、200 所学校及班级、每个角色一个演示账号）。"
        "可重复执行：再次运行不会产生重复数据，并把被改动的演示数据恢复原样。仅在演示模式（CHUANGWEN_DEMO=true）下可用。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh",
            action="store_true",
            help=(
                "随后把演示创建周期中待整改问题的整改时限顺延自上次载入或刷新以来经过的时间，"
                "使红黄灯保持载入时的样子（./run start 每次启动时执行；记入审计事件 demo.refresh）。"
            ),
        )

    def handle(self, *args, **options):
        try:
            report = build_demo_city()
        except DemoDisabled as exc:
            raise CommandError(str(exc)) from exc
        campaign = build_demo_campaign()
        problems = build_demo_problems()
        records = build_demo_accountability()
        refreshed = refresh_demo_clock() if options["refresh"] else None
        if options["verbosity"] == 0:
            return
        t = report.totals
        self.stdout.write(
            f"演示城市“清河市”：{t['departments']} 个科室、{t['districts']} 个区县、{t['schools']} 所学校、"
            f"{t['classes']:,} 个班级（大班额 {t['large_classes']} 个、超大班额 {t['huge_classes']} 个）、"
            f"在校学生 {t['students']:,} 人、教职工 {t['staff']:,} 人。"
        )
        if report.changed:
            done = "、".join(
                f"{label} {report.changes[key]:,}"
                for key, label in CHANGE_LABELS.items()
                if report.changes[key]
            )
            self.stdout.write(self.style.SUCCESS(f"本次：{done}。"))
        else:
            self.stdout.write(self.style.SUCCESS("演示数据已是最新，本次未作任何改动。"))
        share = campaign.owned / campaign.applicable if campaign.applicable else 0
        self.stdout.write(
            f"测评体系：{campaign.edition}（已发布）；"
            f"责任分工：{campaign.owned:,} / {campaign.applicable:,} 项（{share:.0%}）已落实到人。"
        )
        if campaign.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"本次：新建责任人 {campaign.people_created}、"
                    f"落实学校责任 {campaign.assignments_created:,} 项、"
                    f"落实局机关责任 {campaign.bureau_assigned} 项。"
                )
            )
        if problems.created:
            labels = dict(Status.choices)
            counts = "、".join(f"{labels[k]} {n}" for k, n in sorted(problems.problems.items()))
            self.stdout.write(
                self.style.SUCCESS(
                    f"本次：新建“{problems.campaign}”，检查轮次 {problems.rounds} 个、学校检查 "
                    f"{problems.inspections} 次、评分 {problems.answers:,} 条、问题（{counts}），"
                    f"用时 {problems.seconds:.1f} 秒。"
                )
            )
        else:
            self.stdout.write(f"创建周期“{problems.campaign}”及其检查、问题台帐已存在，未重复生成。")
        if records.created:
            kinds = "、".join(f"{label} {n}" for label, n in records.records.items())
            self.stdout.write(
                self.style.SUCCESS(
                    f"本次：印发通报 {records.issued}、通报草稿 {records.drafts} 份、问责记录（{kinds}），"
                    f"用时 {records.seconds:.1f} 秒。"
                )
            )
        if refreshed is not None and refreshed.changed:
            days, rest = divmod(round(refreshed.delta.total_seconds() / 3600), 24)
            n = len(refreshed.problems)
            self.stdout.write(
                self.style.SUCCESS(
                    f"演示时钟：距上次载入或刷新 {days} 天 {rest} 小时，{n} 个待整改问题的整改时限相应顺延，"
                    "红黄灯保持载入时的样子（已记入审计日志 demo.refresh）。"
                )
            )
        elif refreshed is not None:
            self.stdout.write(f"演示时钟：{refreshed.reason}。")
        self.stdout.write("")
        self.stdout.write("演示账号：")
        for line in table([("用户名", "姓名", "角色", "单位"), *report.accounts]):
            self.stdout.write("  " + line)
        self.stdout.write("")
        self.stdout.write(f"统一密码：{DEMO_PASSWORD}    （仅供演示，正式环境不可用）")
        self.stdout.write(f"用时 {report.seconds:.1f} 秒。")
