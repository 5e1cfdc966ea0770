"""创文办 imports an evaluation-index edition from Excel, publishes it, assigns it by rule, and sees 100 %."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from openpyxl import Workbook

from chuangwen.core.roles import Role

pytestmark = pytest.mark.browser

PASSWORD = "Chuangwen#2026"  # every user of the `city` fixture has it
HEADERS = ["测评项目", "测评内容", "测评标准", "分值", "测评方法", "材料要求", "责任单位", "适用学校类型"]
EDITION_NAME = "全国文明城市测评体系（教育系统任务分解）E2E版"
EDITION_CODE = "e2e-2026"
# 2 测评项目 × 2 测评内容 × 2 测评标准: (project, content, [(standard, points, methods, materials, types)])
INDEX = [
    (
        "1 校园环境",
        "1.1 公益广告",
        [
            ("校门口设置公益广告不少于2处", 2, "实地考察", "实景图片", "全部"),
            ("公益广告内容健康、及时更新", 3, "实地考察、材料审核", "实景图片、台账", "小学、初中"),
        ],
    ),
    (
        "1 校园环境",
        "1.2 环境卫生",
        [
            ("校园整洁，无卫生死角", 1, "实地考察", "", "全部"),
            ("建立卫生责任区制度", 4, "材料审核", "制度文件", "小学、初中"),
        ],
    ),
    (
        "2 未成年人思想道德建设",
        "2.1 核心价值观教育",
        [
            ("学生熟知社会主义核心价值观", 2.5, "实地考察", "", "全部"),
            ("开展主题教育活动", 1.5, "材料审核", "方案、总结、活动图片", "小学、初中"),
        ],
    ),
    (
        "2 未成年人思想道德建设",
        "2.2 志愿服务",
        [
            ("组建学生志愿服务队伍", 3, "材料审核", "方案、台账", "全部"),
            ("志愿服务活动常态化", 3, "实地考察、材料审核", "活动图片、媒体报道", "小学、初中"),
        ],
    ),
]
STANDARD_COUNT = sum(len(standards) for *_, standards in INDEX)  # 8
TOTAL_POINTS = sum(Decimal(str(s[1])) for *_, standards in INDEX for s in standards)  # 20


def log_in(page, site, username: str, password: str = PASSWORD):
    page.goto(site.url("/accounts/login/"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="登录").click()
    return navigation.value


def assert_no_horizontal_overflow(page) -> None:
    viewport = page.viewport_size["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport + 1, f"{page.url} is {width}px wide on a {viewport}px screen"


def write_index_workbook(path, department: str):
    """The task table as local offices keep it: 测评项目 and 测评内容 as vertically merged cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = "测评体系"
    ws.append(HEADERS)
    row = 2
    project_first: dict[str, int] = {}
    for project, content, standards in INDEX:
        first = row
        project_first.setdefault(project, first)
        for i, (text, points, methods, materials, types) in enumerate(standards):
            # Only the top cell of a merged range holds a value, as Excel and WPS save it.
            ws.append(
                [
                    project if row == project_first[project] else None,
                    content if i == 0 else None,
                    text,
                    points,
                    methods,
                    materials,
                    department,
                    types,
                ]
            )
            row += 1
        ws.merge_cells(start_row=first, start_column=2, end_row=row - 1, end_column=2)
    rows_of = {}
    for project, _content, standards in INDEX:
        rows_of[project] = rows_of.get(project, 0) + len(standards)
    for project, first in project_first.items():
        ws.merge_cells(start_row=first, start_column=1, end_row=first + rows_of[project] - 1, end_column=1)
    wb.save(path)
    return path


@pytest.fixture
def every_school_has_a_liaison(city):
    """school_a and school_c (the outsider) have a 创文联络员; school_b has nobody: give it one."""
    from chuangwen.org.services import membership_grant
    from chuangwen.org.tests.factories import UserFactory

    liaison = UserFactory(username="liaison_b", name="东区实验联络员")
    membership_grant(user=liaison, unit=city.school_b, role=Role.LIAISON)
    return liaison


def test_office_imports_publishes_assigns_and_reaches_full_coverage(
    site, city, every_school_has_a_liaison, desktop_page, phone_page, screenshot, tmp_path
):
    from chuangwen.index.models import Edition, Standard

    page = desktop_page
    office = city.users[Role.OFFICE]
    workbook = write_index_workbook(tmp_path / "测评体系任务分解表.xlsx", city.office_dept.name)
    log_in(page, site, office.username)

    # 1. Upload through the wizard.
    page.goto(site.url("/index/import/"))
    upload = page.get_by_test_id("index-upload")
    assert upload.get_by_label("Excel（.xlsx，任务分解表格式）").is_checked()
    upload.locator("input[type=file]").set_input_files(str(workbook))
    page.get_by_label("新版本名称").fill(EDITION_NAME)
    page.get_by_label("新版本代码").fill(EDITION_CODE)
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_url(re.compile(r"/index/import/\d+/$"))

    # 2. The preview: the merged cells were read as 2 projects and 4 contents.
    assert page.get_by_test_id("import-errors-alert").count() == 0
    counts = page.get_by_test_id("import-counts").locator(".cw-stat").all_inner_texts()
    assert [c.strip() for c in counts[:3]] == ["2", "4", str(STANDARD_COUNT)]
    assert Decimal(counts[3].strip()) == TOTAL_POINTS
    projects = page.get_by_test_id("preview-projects").locator("li").all_inner_texts()
    assert len(projects) == 2
    assert "校园环境" in projects[0] and "未成年人思想道德建设" in projects[1]
    preview_rows = page.get_by_test_id("preview-table").locator("tbody tr")
    assert preview_rows.count() == STANDARD_COUNT
    assert "德育科" in preview_rows.first.inner_text()
    screenshot(page, "desktop-index-import-preview")

    # 3. Confirm: a draft edition.
    page.get_by_test_id("confirm-import").click()
    page.wait_for_url(re.compile(r"/index/editions/\d+/$"))
    edition_id = int(re.search(r"/index/editions/(\d+)/$", page.url).group(1))
    assert "已导入草稿版本" in page.get_by_role("alert").first.inner_text()
    assert page.get_by_test_id("standard-count").inner_text() == str(STANDARD_COUNT)
    assert Decimal(page.get_by_test_id("total-points").inner_text()) == TOTAL_POINTS
    assert page.get_by_role("heading", level=1).get_by_text("草稿").is_visible()
    edition = Edition.objects.get(pk=edition_id)
    assert (edition.name, edition.code, edition.status) == (EDITION_NAME, EDITION_CODE, "draft")
    standards = Standard.objects.filter(edition=edition)
    assert standards.count() == STANDARD_COUNT
    assert set(standards.values_list("lead_department_id", flat=True)) == {city.office_dept.pk}

    # 4. Publish (the button asks for confirmation).
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="发布").click()
    assert page.get_by_role("heading", level=1).get_by_text("已发布").is_visible()
    edition.refresh_from_db()
    assert edition.status == "published"
    screenshot(page, "desktop-index-edition-published")

    # 5. Coverage before any assignment: nothing owned.
    page.goto(site.url(f"/duty/coverage/?edition={edition_id}"))
    applicable = 3 * STANDARD_COUNT  # two primary schools and a junior one; every standard fits both
    assert page.get_by_test_id("coverage-percent").inner_text() == "0.0%"
    assert page.get_by_test_id("unowned-count").inner_text() == str(applicable)

    # 6. Assign by rule: every standard, every school type, to the school's 创文联络员.
    page.get_by_role("link", name="按规则分工").click()
    page.wait_for_url(site.url(f"/duty/rules/?edition={edition_id}"))
    assert page.get_by_label("测评项目").input_value() == ""
    assert page.get_by_label("学校类型").input_value() == ""
    assert page.get_by_label("责任人：学校的").input_value() == Role.LIAISON
    page.get_by_role("button", name="执行分工").click()
    page.wait_for_url(re.compile(r"/duty/coverage/\?edition=" + str(edition_id) + "$"))

    # 7. 100 %.
    message = page.get_by_role("alert").first.inner_text()
    assert f"适用 {applicable} 项，新增 {applicable} 项" in message
    assert "未分配" not in message
    assert page.get_by_test_id("coverage-percent").inner_text() == "100.0%"
    assert page.get_by_test_id("unowned-count").inner_text() == "0"
    assert page.get_by_test_id("all-owned").is_visible()
    assert page.get_by_test_id("unowned-list").count() == 0
    matrix = page.get_by_test_id("coverage-matrix")
    matrix_rows = matrix.locator("tbody tr")
    assert matrix_rows.count() == 3
    for row in matrix_rows.all():
        assert f"{STANDARD_COUNT}/{STANDARD_COUNT}" in row.inner_text()
    strips = matrix.locator("td.cw-strip")
    assert strips.locator("b").count() == 0, "no unowned (red) run left in the matrix"
    # Owned cells are drawn in the legend's green, not in the table's text colour.
    assert strips.first.evaluate("cell => getComputedStyle(cell).color") == "rgb(25, 135, 84)"
    screenshot(page, "desktop-duty-coverage-100")

    # 8. The same page on a phone.
    phone = phone_page
    log_in(phone, site, office.username)
    phone.goto(site.url(f"/duty/coverage/?edition={edition_id}"))
    assert phone.get_by_test_id("coverage-percent").inner_text() == "100.0%"
    assert phone.get_by_test_id("all-owned").is_visible()
    assert_no_horizontal_overflow(phone)
    screenshot(phone, "mobile-duty-coverage-100")
