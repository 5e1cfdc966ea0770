"""清河市, the demo city: a fictional prefecture-level city, its 教育体育局 with departments, three
districts, 200 schools of every type with their classes, and one account per role.

`generate_city()` is a pure function of the seed, so every run describes the same city.
`build_demo_city()` upserts that description (units by code, classes by school + grade + name, users by
username): a second run changes nothing, and a run after someone edited demo rows restores them.
Bureau, departments, districts, users and roles go through the services (and so into the audit chain);
schools and classes are written in bulk for speed, and the whole run is summarised by one `demo.build`
audit event when it changed anything.

School codes look like 10-digit 学校标识码 ("3" + a 6-digit area code + a 3-digit number); the area codes
4199xx are not assigned to any real place.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from chuangwen.core.roles import Role
from chuangwen.org.models import HUGE_CLASS_MIN, LARGE_CLASS_MIN, Grade, Unit

SEED = 2026
DEMO_PASSWORD = "Demo@2026cw"  # noqa: S105 - the published demo password, refused outside demo mode
CITY_NAME = "清河市"
BUREAU_CODE = "419900-JTJ"
DISABLED_MESSAGE = (
    "未启用演示模式（CHUANGWEN_DEMO 为 false），拒绝生成演示数据：演示账号使用公开的统一密码，"
    "不得出现在正式环境。如确需在本环境演示，请设置环境变量 CHUANGWEN_DEMO=true 后重试。"
)


class DemoDisabled(RuntimeError):
    """The demo city may only be built when settings.CHUANGWEN_DEMO is true."""


# --- the description ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent_code: str | None = None
    school_type: str = ""
    ownership: str = ""
    address: str = ""
    enrolment: int | None = None
    staff_count: int | None = None


@dataclass(frozen=True)
class ClassSpec:
    school_code: str
    grade: int
    name: str
    head_teacher_name: str
    student_count: int
    head_teacher_username: str = ""


@dataclass(frozen=True)
class UserSpec:
    username: str
    name: str
    phone: str
    role: str
    unit_code: str
    title: str
    is_staff: bool = False


@dataclass(frozen=True)
class City:
    name: str
    units: tuple[UnitSpec, ...]  # parents before children
    classes: tuple[ClassSpec, ...]
    users: tuple[UserSpec, ...]

    def unit(self, name: str) -> UnitSpec:
        return next(u for u in self.units if u.name == name)

    @property
    def schools(self) -> tuple[UnitSpec, ...]:
        return tuple(u for u in self.units if u.kind == Unit.Kind.SCHOOL)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DEPARTMENTS = _words(
    "办公室 基础教育科 学前教育科 思想政治与德育科 安全稳定科 体卫艺科 职业与成人教育科 计划财务科 人事科 "
    "教育督导室 创文工作专班（创文办）"
)
OFFICE_DEPT, MORAL_DEPT, INSPECTION_DEPT = "创文工作专班（创文办）", "思想政治与德育科", "教育督导室"

TOWNS = _words("柳林镇 石桥镇 白沙镇 杨集镇 龙泉镇 马庄乡 桃园乡 李庄乡")
# The schools, by area: a header line "code name" (行政区划代码-style; 市直 = directly under the bureau),
# then the area's streets and its schools by type; a type may continue on several lines. Marks after a
# name: * crowded (大班额 likely), ! packed (a few 超大班额), $ 民办, ~ village school. Names are
# prefixed with the area's name unless they start with the city's name.
SCHOOL_TABLE = """
419900 市直
  senior        清河市第一中学! 清河市实验高级中学* 清河市育才高级中学$
  complete      清河市第二中学* 清河市第三中学 清河市第四中学 清河市华英中学$
  junior        清河市实验中学*
  nine_year     清河市外国语学校$
  primary       清河市第一实验小学* 清河市第二实验小学
  kindergarten  清河市实验幼儿园 清河市机关幼儿园
  vocational    清河市职业技术学校 清河市卫生职业中等专业学校 清河市财经商贸学校
  vocational    清河市新华电脑职业学校$
  special       清河市特殊教育学校
419902 城关区
  streets       解放路 人民路 文化路 建设路 中山路 东关街 西关街 南关街 北关街 鼓楼街 府前街
  streets       胜利路 和平路 工农路 五一路 红旗路 健康路 新华街 车站路 公园路
  primary       实验小学! 东关小学* 西关小学 南关小学 北关小学 解放路小学* 人民路小学 文化路小学*
  primary       建设路小学 中山路小学 鼓楼小学 府前街小学 胜利路小学 和平路小学 工农路小学
  primary       五一路小学 红旗路小学 健康路小学 新华街小学 车站路小学 公园路小学 第一小学
  primary       第二小学 第三小学 启明小学$ 博雅小学$
  junior        清河市第五中学* 清河市第六中学 清河市第七中学 第一初级中学 第二初级中学 育英中学$
  nine_year     东城学校 北城学校 启航学校$
  kindergarten  第一幼儿园 第二幼儿园 第三幼儿园 第四幼儿园 实验幼儿园 东关幼儿园 西关幼儿园
  kindergarten  人民路幼儿园 文化路幼儿园 金色童年幼儿园$ 小太阳幼儿园$ 贝贝乐幼儿园$ 爱弥儿幼儿园$
  kindergarten  童心幼儿园$ 蓝天幼儿园$ 七彩虹幼儿园$ 小博士幼儿园$ 启智幼儿园$ 快乐宝贝幼儿园$
  kindergarten  小天使幼儿园$ 红缨幼儿园$ 金太阳幼儿园$
419903 河西区
  streets       滨河路 阳光大道 世纪大道 学府路 锦绣路 科技路 泰山路 黄河路 长江路 新城大道 枫林路
  streets       文昌路 明德路 康宁街 翠柳路 花园路
  primary       实验小学* 第一小学* 第二小学 第三小学 第四小学 第五小学 阳光小学 滨河小学
  primary       学府路小学* 锦绣小学 新华小学 育才小学 科技路小学 泰山路小学 黄河路小学 长江路小学
  primary       新城小学 枫林小学 文昌小学 明德小学 康宁小学 翠柳小学 花园小学 博文双语小学$ 英才小学$
  junior        清河市第八中学 清河市第九中学* 第一初级中学 第二初级中学 滨河中学 实验中学*
  nine_year     新城实验学校* 枫林学校 世纪学校 育英学校$
  senior        清河市河西高级中学
  kindergarten  第一幼儿园 第二幼儿园 第三幼儿园 实验幼儿园 阳光幼儿园 滨河幼儿园 新城幼儿园
  kindergarten  锦绣幼儿园 学府幼儿园 星光幼儿园$ 彩虹桥幼儿园$ 格林幼儿园$ 新苗幼儿园$ 育苗幼儿园$
  kindergarten  小红帽幼儿园$ 童话幼儿园$ 贝尔幼儿园$ 蒙正幼儿园$ 乐乐幼儿园$ 小精灵幼儿园$
  kindergarten  春蕾幼儿园$ 金苹果幼儿园$ 小海豚幼儿园$ 开心果幼儿园$
419921 东阳县
  streets       东阳大道 兴业路 振兴路 育才路 迎宾路 县前街 富民路 人民路
  primary       实验小学! 第一小学* 第二小学 第三小学 柳林镇中心小学 石桥镇中心小学 白沙镇中心小学
  primary       杨集镇中心小学 龙泉镇中心小学 马庄乡中心小学 桃园乡中心小学 李庄乡中心小学
  primary       柳林镇王庄小学~ 柳林镇前营小学~ 石桥镇大郭小学~ 石桥镇河口小学~ 白沙镇沙窝小学~
  primary       白沙镇后寨小学~ 杨集镇孟楼小学~ 杨集镇岗头小学~ 马庄乡刘庄小学~ 马庄乡张堂小学~
  primary       桃园乡小李庄小学~ 桃园乡西湖小学~ 李庄乡赵楼小学~ 龙泉镇北坡小学~ 龙泉镇泉头小学~
  junior        第一初级中学* 第二初级中学 柳林镇第一初级中学 石桥镇中学 白沙镇中学 杨集镇中学
  junior        龙泉镇中学 启迪中学$
  nine_year     马庄乡九年一贯制学校 桃园乡九年一贯制学校 李庄乡九年一贯制学校 实验学校* 城南学校
  senior        第一高级中学! 第二高级中学*
  complete      第三中学*
  vocational    职业教育中心
  special       特殊教育学校
  kindergarten  第一幼儿园 第二幼儿园 实验幼儿园 柳林镇中心幼儿园 石桥镇中心幼儿园 白沙镇中心幼儿园
  kindergarten  杨集镇中心幼儿园 龙泉镇中心幼儿园 马庄乡中心幼儿园 桃园乡中心幼儿园 李庄乡中心幼儿园
  kindergarten  金摇篮幼儿园$ 小天鹅幼儿园$ 育才幼儿园$ 天天幼儿园$ 阳光宝贝幼儿园$ 小叮当幼儿园$
  kindergarten  书香幼儿园$ 爱心幼儿园$ 未来星幼儿园$
"""


def _areas() -> tuple[tuple[str, str, tuple[str, ...], dict[str, list[str]]], ...]:
    """(code, name, streets, {school type: [entries]}) per area, read from SCHOOL_TABLE."""
    areas: list[tuple[str, str, list[str], dict[str, list[str]]]] = []
    for line in SCHOOL_TABLE.strip().splitlines():
        key, *words = line.split()
        if not line.startswith(" "):
            areas.append((key, "" if words == ["市直"] else words[0], [], {}))
        elif key == "streets":
            areas[-1][2].extend(words)
        else:
            areas[-1][3].setdefault(key, []).extend(words)
    return tuple((code, name, tuple(streets), schools) for code, name, streets, schools in areas)


AREAS = _areas()
TOWN_STREETS = _words("政府街 中心街 文化路 育才路 建设路")
MAJORS = {  # 中职 majors, one to three classes each per grade
    "清河市职业技术学校": _words("机电技术应用 数控技术应用 汽车运用与维修 计算机应用 电子商务 学前教育"),
    "清河市卫生职业中等专业学校": _words("护理 药剂 医学检验技术 康复技术"),
    "清河市财经商贸学校": _words("会计事务 电子商务 物流服务与管理 高星级饭店运营与管理"),
    "清河市新华电脑职业学校": _words("计算机应用 数字媒体技术应用 网络信息安全"),
    "东阳县职业教育中心": _words("现代农艺技术 机电技术应用 计算机应用 服装设计与工艺 学前教育"),
}

PRIMARY, JUNIOR, SENIOR = range(11, 17), range(17, 20), range(21, 24)
STAGES = {  # school type -> (stage, grades): k 幼儿园, p 小学, j 初中, s 高中, v 中职, x 特殊教育
    "kindergarten": (("k", (Grade.K1, Grade.K2, Grade.K3)),),
    "primary": (("p", PRIMARY),),
    "junior": (("j", JUNIOR),),
    "nine_year": (("p", PRIMARY), ("j", JUNIOR)),
    "senior": (("s", SENIOR),),
    "complete": (("j", JUNIOR), ("s", SENIOR)),
    "vocational": (("v", SENIOR),),
    "special": (("x", (*PRIMARY, *JUNIOR)),),
}
# Per stage and school profile: classes per grade (per major for v) and class size ("urban" is the fallback;
# kindergarten sizes depend on the grade, see KINDERGARTEN_SIZES). The entry grades of crowded schools are
# capped at 45 / 50 (the 大班额 clean-up); packed schools' oldest cohort runs 4 larger.
PLAN_TABLE = """
k village 1-1 -      k town 2-3 -      k urban 2-4 -      k private 1-3 -      k crowded 4-5 -  k packed 4-5 -
p village 1-1 12-32  p town 2-4 36-50  p urban 3-6 40-50  p private 2-3 28-40  p crowded 7-10 44-58
p packed 9-12 52-64  j town 3-5 42-54  j urban 5-8 44-52  j private 3-4 35-45  j crowded 9-12 46-58
j packed 12-15 52-64 s urban 8-12 46-55  s private 5-7 40-50  s crowded 12-16 48-58  s packed 18-22 54-64
v urban 1-3 32-50    x urban 1-1 5-12
"""


def _range(text: str) -> tuple[int, int] | None:
    if text == "-":
        return None
    lo, hi = text.split("-")
    return int(lo), int(hi)


_cells = PLAN_TABLE.split()
PLAN = {(st, pr): (_range(n), _range(size)) for st, pr, n, size in zip(*[iter(_cells)] * 4, strict=True)}
KINDERGARTEN_SIZES = {Grade.NURSERY: (12, 20), Grade.K1: (20, 30), Grade.K2: (25, 35), Grade.K3: (28, 38)}
STAFF_RATIO = {  # students per member of staff
    "kindergarten": 7.5,
    "primary": 17,
    "junior": 12.5,
    "nine_year": 14,
    "senior": 12,
    "complete": 12,
    "vocational": 16,
    "special": 2.6,
}
FEMALE_SHARE = {"k": 0.97, "p": 0.8, "j": 0.65, "s": 0.55, "v": 0.55, "x": 0.8}

SURNAMES = (
    "王李张刘陈杨黄赵吴周"
    "徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤"
)
SURNAME_WEIGHTS = [8] * 10 + [3] * 20 + [1] * (len(SURNAMES) - 30)
FEMALE_GIVEN = _words(
    "丽 静 敏 燕 艳 娟 霞 芳 婷 慧 琳 倩 雯 晶 颖 璐 蕾 洁 秀英 雪梅 晓红 海燕 玉兰 春梅 晓燕 丽娟 美玲 桂芳 "
    "雅琴 佳怡 梦瑶 欣然 思雨 文静 红霞 晓丽 艳红 丹丹 亚楠 慧敏 秋菊 淑珍 晨曦 雨涵"
)
MALE_GIVEN = _words(
    "伟 强 磊 军 勇 杰 涛 斌 超 鹏 浩 宇 刚 辉 亮 明 建华 志强 国庆 文博 俊杰 建国 海涛 志刚 晓东 立新 振华 "
    "宏伟 子轩 浩然"
)

# One account per role; school roles on 清河市第一实验小学, plus the liaison of a second school and the
# 创文办 of one district (城关区: its schools had most of the mock round's problems), who reaches only it.
DEMO_SCHOOL, SECOND_SCHOOL, DEMO_DISTRICT = "清河市第一实验小学", "清河市第三中学", "城关区"
TEACHER_CLASS = (Grade.G3, "2班")
USERS = (  # username, name, role, unit name, title, is_staff
    ("admin", "赵志刚", Role.ADMIN, "清河市教育体育局", "信息中心主任", True),
    ("leader", "王建华", Role.LEADER, "清河市教育体育局", "党组书记、局长", False),
    ("office", "李晓燕", Role.OFFICE, OFFICE_DEPT, "创文办主任", False),
    ("depthead", "张明辉", Role.DEPT_HEAD, MORAL_DEPT, "科长", False),
    ("inspector", "刘洋", Role.INSPECTOR, INSPECTION_DEPT, "督学", False),
    ("principal", "陈淑芬", Role.SCHOOL_HEAD, DEMO_SCHOOL, "党支部书记、校长", False),
    ("liaison", "杨帆", Role.LIAISON, DEMO_SCHOOL, "德育主任", False),
    ("archivist", "黄丽娟", Role.ARCHIVIST, DEMO_SCHOOL, "办公室干事", False),
    ("teacher", "吴静", Role.TEACHER, DEMO_SCHOOL, "三年级2班班主任", False),
    ("liaison2", "孙磊", Role.LIAISON, SECOND_SCHOOL, "政教处主任", False),
    ("district_office", "郑海燕", Role.OFFICE, DEMO_DISTRICT, "区教育局创文办主任", False),
)


def _person_name(rng: random.Random, female_share: float) -> str:
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    return surname + rng.choice(FEMALE_GIVEN if rng.random() < female_share else MALE_GIVEN)


def _parse(entry: str) -> tuple[str, str, str]:
    """'东关小学*' -> ('东关小学', profile, ownership)."""
    name = entry.rstrip("*!$~")
    marks = entry[len(name) :]
    ownership = Unit.Ownership.PRIVATE if "$" in marks else Unit.Ownership.PUBLIC
    if "!" in marks:
        profile = "packed"
    elif "*" in marks:
        profile = "crowded"
    elif "~" in marks:
        profile = "village"
    elif "$" in marks:
        profile = "private"
    elif any(t in name for t in TOWNS):
        profile = "town"
    else:
        profile = "urban"
    return name, profile, ownership


def _address(rng: random.Random, area_name: str, streets: tuple[str, ...], name: str, profile: str) -> str:
    if not area_name:  # 市直 schools stand in one of the two urban districts
        _, area_name, streets, _ = AREAS[rng.choice((1, 2))]
    prefix = f"{CITY_NAME}{area_name}"
    town = next((t for t in TOWNS if t in name), "")
    if profile == "village":
        return f"{prefix}{name.removesuffix('小学')}村"
    if town:
        return f"{prefix}{town}{rng.choice(TOWN_STREETS)}{rng.randint(1, 88)}号"
    street = next((s for s in streets if s in name or s[:-1] in name), None) or rng.choice(streets)
    return f"{prefix}{street}{rng.randint(1, 399)}号"


def _class_size(rng: random.Random, stage: str, profile: str, grade: int, position: int, last: int) -> int:
    if stage == "k":
        lo, hi = KINDERGARTEN_SIZES[grade]
        return rng.randint(lo, hi) - (8 if profile == "village" else 0)
    lo, hi = (PLAN.get((stage, profile)) or PLAN[stage, "urban"])[1]
    if profile == "packed" and position == last:
        hi += 4  # the oldest cohort, enrolled before the 大班额 clean-up: a few 超大班额
    size = rng.randint(lo, hi)
    if profile in ("crowded", "packed") and position < (2 if stage == "p" else 1):
        size = min(size, rng.randint(43, 45) if stage == "p" else rng.randint(48, 50))
    return size


def _school_classes(rng: random.Random, code: str, name: str, school_type: str, profile: str) -> list:
    classes = []
    for stage, grades in STAGES[school_type]:
        female = FEMALE_SHARE[stage]
        per_grade, sizes = PLAN.get((stage, profile)) or PLAN[stage, "urban"]
        if stage == "v":
            for grade in grades:
                for major in MAJORS.get(name, ("计算机应用", "电子商务")):
                    for i in range(1, rng.randint(*per_grade) + 1):
                        size = rng.randint(*sizes)
                        classes.append(
                            ClassSpec(code, grade, f"{major}{i}班", _person_name(rng, female), size)
                        )
            continue
        if stage == "k" and (profile == "private" or rng.random() < 0.25):
            grades = (Grade.NURSERY, *grades)
        count = rng.randint(*per_grade)  # a school keeps roughly the same number of classes per grade
        for position, grade in enumerate(grades):
            n = max(1, count + rng.choice((-1, 0, 0, 0, 1))) if per_grade[1] > 1 else 1
            for i in range(1, n + 1):
                size = _class_size(rng, stage, profile, grade, position, len(grades) - 1)
                classes.append(ClassSpec(code, grade, f"{i}班", _person_name(rng, female), size))
    return classes


def _schools(seed: int) -> tuple[list[UnitSpec], list[ClassSpec]]:
    units, classes = [], []
    for area_code, area_name, streets, by_type in AREAS:
        number = 0
        for school_type, entries in by_type.items():
            for entry in entries:
                number += 1
                short, profile, ownership = _parse(entry)
                name = short if short.startswith(CITY_NAME) else area_name + short
                code = f"3{area_code}{number:03d}"
                rng = random.Random(f"{seed}:{code}")  # noqa: S311 - demo data, not security
                school_classes = _school_classes(rng, code, name, school_type, profile)
                enrolment = sum(c.student_count for c in school_classes)
                ratio = STAFF_RATIO[school_type] * rng.uniform(0.92, 1.08)  # students per member of staff
                staff = round(enrolment / ratio) + rng.randint(2, 6)
                address = _address(rng, area_name, streets, short, profile)
                parent_code = area_code if area_name else BUREAU_CODE
                facts = (school_type, ownership, address, enrolment, staff)
                units.append(UnitSpec(code, name, Unit.Kind.SCHOOL, parent_code, *facts))
                classes.extend(school_classes)
    return units, classes


def generate_city(seed: int = SEED) -> City:
    """The whole demo city as plain data; the same seed always gives the same city."""
    office = f"{CITY_NAME}河西区世纪大道199号"
    units = [UnitSpec(BUREAU_CODE, f"{CITY_NAME}教育体育局", Unit.Kind.BUREAU, address=office)]
    for number, name in enumerate(DEPARTMENTS, start=1):
        units.append(
            UnitSpec(f"{BUREAU_CODE}-{number:02d}", name, Unit.Kind.DEPARTMENT, BUREAU_CODE, address=office)
        )
    for code, area_name, _, _ in AREAS[1:]:
        address = f"{CITY_NAME}{area_name}{'政府路' if '区' in area_name else '县前街'}18号"
        units.append(UnitSpec(code, area_name, Unit.Kind.DISTRICT, BUREAU_CODE, address=address))
    schools, classes = _schools(seed)
    city = City(CITY_NAME, (*units, *schools), (), ())
    users = tuple(
        UserSpec(username, name, f"139000000{i:02d}", role, city.unit(unit_name).code, title, staff)
        for i, (username, name, role, unit_name, title, staff) in enumerate(USERS, start=1)
    )
    teacher_class = (city.unit(DEMO_SCHOOL).code, *TEACHER_CLASS)
    classes = [
        ClassSpec(*teacher_class, "吴静", c.student_count, "teacher")
        if (c.school_code, c.grade, c.name) == teacher_class
        else c
        for c in classes
    ]
    return City(CITY_NAME, city.units, tuple(classes), users)


# --- writing it -----------------------------------------------------------------------------------


@dataclass
class BuildReport:
    changes: Counter = field(default_factory=Counter)  # "units.created" -> n, …
    totals: dict = field(default_factory=dict)
    accounts: list[tuple[str, str, str, str]] = field(default_factory=list)  # username, name, role, unit
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return any(self.changes.values())


SCHOOL_FIELDS = _words("kind name parent_id school_type ownership address enrolment staff_count is_active")


def _unit_values(spec: UnitSpec, units: dict[str, Unit]) -> dict:
    values = {name: getattr(spec, name) for name in SCHOOL_FIELDS if name not in ("parent_id", "is_active")}
    parent_id = units[spec.parent_code].pk if spec.parent_code else None
    return {**values, "parent_id": parent_id, "is_active": True}


def _upsert_units(city: City, report: BuildReport) -> dict[str, Unit]:
    from chuangwen.org import services

    existing = {u.code: u for u in Unit.objects.filter(code__in=[s.code for s in city.units])}
    units: dict[str, Unit] = {}
    # The bureau, its departments and the districts: few, so through the audited services.
    for spec in city.units:
        if spec.kind == Unit.Kind.SCHOOL:
            continue
        values = _unit_values(spec, units)
        unit = existing.get(spec.code)
        changed = unit is None or any(getattr(unit, k) != v for k, v in values.items())
        del values["parent_id"]
        values["parent"] = units[spec.parent_code] if spec.parent_code else None
        if unit is None:
            unit = services.unit_create(code=spec.code, **values)
            report.changes["units.created"] += 1
        elif changed:
            unit = services.unit_update(unit=unit, **values)
            report.changes["units.updated"] += 1
        units[spec.code] = unit
    # 200 schools: in bulk, then their materialised paths.
    now = timezone.now()
    to_create, to_update = [], []
    for spec in city.schools:
        values = _unit_values(spec, units)
        unit = existing.get(spec.code)
        if unit is None:
            unit = Unit(code=spec.code, **values)
            unit.parent = units[spec.parent_code]
            unit.full_clean(validate_unique=False)
            to_create.append(unit)
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(unit, k, v)
            unit.parent = units[spec.parent_code]
            unit.full_clean(validate_unique=False)
            unit.updated_at = now
            to_update.append(unit)
        units[spec.code] = unit
    Unit.objects.bulk_create(to_create, batch_size=500)
    Unit.objects.bulk_update(to_update, [*SCHOOL_FIELDS, "updated_at"], batch_size=500)
    report.changes["units.created"] += len(to_create)
    report.changes["units.updated"] += len(to_update)
    moved = []
    for spec in city.schools:
        unit = units[spec.code]
        unit.parent = units[spec.parent_code]
        expected = unit.expected_path()
        if unit.path != expected:
            unit.path = expected
            moved.append(unit)
    Unit.objects.bulk_update(moved, ["path"], batch_size=500)
    return units


def _upsert_users(city: City, units: dict[str, Unit], report: BuildReport) -> dict[str, object]:
    from chuangwen.accounts import services as accounts
    from chuangwen.accounts.models import User
    from chuangwen.org import services
    from chuangwen.org.models import Membership

    users = {}
    for spec in city.users:
        user = User.objects.filter(username__iexact=spec.username).first()
        created, touched = user is None, False
        if created:
            user = accounts.user_create(
                username=spec.username, name=spec.name, phone=spec.phone, password=DEMO_PASSWORD
            )
            report.changes["users.created"] += 1
        else:
            if (user.name, user.phone, user.email) != (spec.name, spec.phone, ""):
                accounts.user_update(user=user, name=spec.name, phone=spec.phone, email="")
                touched = True
            if not user.is_active:
                accounts.user_reactivate(user=user)
                touched = True
            if not user.check_password(DEMO_PASSWORD):
                accounts.user_set_password(user=user, password=DEMO_PASSWORD)
                touched = True
        if (user.is_staff, user.is_superuser) != (spec.is_staff, False):
            touched = not created
            user.is_staff, user.is_superuser = spec.is_staff, False
            user.save(update_fields=["is_staff", "is_superuser", "updated_at"])
        report.changes["users.updated"] += touched
        unit = units[spec.unit_code]
        kept = False
        for membership in Membership.objects.filter(user=user):
            if (membership.unit_id, membership.role) == (unit.pk, spec.role) and not kept:
                kept = True
                if membership.title != spec.title:
                    membership.title = spec.title
                    membership.save(update_fields=["title", "updated_at"])
                    report.changes["roles.updated"] += 1
            else:
                services.membership_revoke(membership=membership)
                report.changes["roles.revoked"] += 1
        if not kept:
            services.membership_grant(user=user, unit=unit, role=spec.role, title=spec.title)
            report.changes["roles.granted"] += 1
        users[spec.username] = user
        report.accounts.append((spec.username, spec.name, Role(spec.role).label, unit.name))
    return users


def _upsert_classes(city: City, units: dict[str, Unit], users: dict, report: BuildReport) -> None:
    from chuangwen.org.models import SchoolClass

    school_ids = [units[s.code].pk for s in city.schools]
    existing = {
        (k.school_id, k.grade, k.name): k for k in SchoolClass.objects.filter(school_id__in=school_ids)
    }
    wanted, to_create, to_update = set(), [], []
    now = timezone.now()
    for spec in city.classes:
        key = (units[spec.school_code].pk, int(spec.grade), spec.name)
        wanted.add(key)
        teacher = users[spec.head_teacher_username] if spec.head_teacher_username else None
        values = {
            "head_teacher_name": spec.head_teacher_name,
            "student_count": spec.student_count,
            "head_teacher_id": teacher.pk if teacher else None,
        }
        klass = existing.get(key)
        if klass is None:
            to_create.append(SchoolClass(school_id=key[0], grade=key[1], name=key[2], **values))
        elif any(getattr(klass, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(klass, k, v)
            klass.updated_at = now
            to_update.append(klass)
    SchoolClass.objects.bulk_create(to_create, batch_size=1000)
    SchoolClass.objects.bulk_update(
        to_update, ["head_teacher_name", "student_count", "head_teacher_id", "updated_at"], batch_size=1000
    )
    report.changes["classes.created"] += len(to_create)
    report.changes["classes.updated"] += len(to_update)
    extra = [existing[key].pk for key in set(existing) - wanted]
    if extra:  # classes someone added to a demo school; keep those that other records protect
        for pk in extra:
            try:
                with transaction.atomic():
                    SchoolClass.objects.filter(pk=pk).delete()
                report.changes["classes.deleted"] += 1
            except ProtectedError:
                pass


def _clear_lockouts(city: City, report: BuildReport) -> None:
    from axes.models import AccessAttempt
    from axes.utils import reset

    usernames = [u.username for u in city.users]
    if AccessAttempt.objects.filter(username__in=usernames).exists():
        for username in usernames:
            report.changes["lockouts.cleared"] += reset(username=username)


def build_demo_city(*, seed: int = SEED) -> BuildReport:
    """Create the demo city, or bring an existing one back to its demo values. Idempotent."""
    if not settings.CHUANGWEN_DEMO:
        raise DemoDisabled(DISABLED_MESSAGE)
    from chuangwen.core import audit

    started = time.perf_counter()
    city = generate_city(seed)
    report = BuildReport()
    with transaction.atomic():
        units = _upsert_units(city, report)
        users = _upsert_users(city, units, report)
        _upsert_classes(city, units, users, report)
        _clear_lockouts(city, report)
        if report.changed:
            audit.record(
                "demo.build",
                username="chuangwen demo",
                object_type="demo.city",
                object_repr=city.name,
                data={"seed": seed, **{k: v for k, v in sorted(report.changes.items()) if v}},
            )
    schools = city.schools
    report.totals = {
        "schools": len(schools),
        "districts": sum(u.kind == Unit.Kind.DISTRICT for u in city.units),
        "departments": sum(u.kind == Unit.Kind.DEPARTMENT for u in city.units),
        "classes": len(city.classes),
        "students": sum(s.enrolment for s in schools),
        "staff": sum(s.staff_count for s in schools),
        "large_classes": sum(LARGE_CLASS_MIN <= c.student_count < HUGE_CLASS_MIN for c in city.classes),
        "huge_classes": sum(c.student_count >= HUGE_CLASS_MIN for c in city.classes),
    }
    report.seconds = time.perf_counter() - started
    return report
