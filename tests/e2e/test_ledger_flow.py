"""The ledger's whole loop on phones, as the issue describes it: an inspector fails a standard with a
photo → the school's liaison is notified and sees the light → submits the cause, measures and an
after-photo → the campaign office re-checks and closes → the ledger export lists it with every date."""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from PIL import Image
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.core.roles import Role
from chuangwen.ledger.models import LedgerSettings, Problem, Status

pytestmark = pytest.mark.browser


def photo(seed: int) -> dict:
    rnd = random.Random(seed)
    img = Image.new("RGB", (120, 90))
    img.putdata([(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)) for _ in range(120 * 90)])
    buf = io.BytesIO()
    img.save(buf, "JPEG")
    return {"name": f"IMG_{seed}.jpg", "mimeType": "image/jpeg", "buffer": buf.getvalue()}


def test_found_notified_fixed_rechecked_closed_and_exported(site, new_context, city, screenshot, tmp_path):
    from chuangwen.ledger.tests.factories import make_setup

    setup = make_setup(city)
    # The office's rule: yellow in the last 24 hours, so a same-day (立行立改) problem is yellow at once.
    LedgerSettings.objects.create(pk=1, yellow_min_hours=24)
    standard = setup.standards["1.1"]

    # 1. The inspector, on a phone, fails 1.1 with a photo and opens a problem with one tap.
    inspector = new_context(**PHONE).new_page()
    log_in(inspector, site, city.users[Role.INSPECTOR].username)
    inspector.goto(site.url(f"/campaigns/rounds/{setup.round.pk}/"))
    with inspector.expect_navigation():
        inspector.get_by_test_id("school").filter(has_text=city.school_a.name).get_by_test_id(
            "inspection-start"
        ).click()
    card = f"#s{standard.pk}"
    inspector.locator(card).get_by_text("不达标", exact=True).click()
    inspector.locator(card).get_by_test_id("saved").wait_for()
    inspector.locator(f"{card} input[type=file]").set_input_files(files=[photo(1)])
    inspector.locator(card).get_by_test_id("thumb").wait_for()
    inspector.locator(card).get_by_test_id("problem-button").click()
    inspector.locator(card).get_by_test_id("problem").wait_for()
    problem = Problem.objects.get(answer__standard=standard)
    assert problem.status == Status.ASSIGNED and problem.responsible == city.users[Role.TEACHER]
    screenshot(inspector, "ledger-flow-1-inspector")

    # 2. The liaison, on a phone, has a notification and sees the yellow light.
    liaison = new_context(**PHONE).new_page()
    log_in(liaison, site, city.users[Role.LIAISON].username)
    assert int(liaison.get_by_test_id("notify-unread").inner_text()) >= 1
    liaison.goto(site.url("/notify/"))
    liaison.get_by_test_id("notification-list").get_by_text(problem.description[:20]).first.wait_for()
    liaison.goto(site.url("/ledger/"))
    row = liaison.get_by_test_id("problem").filter(has_text=problem.number)
    assert row.locator("[data-light]").get_attribute("data-light") == "yellow"
    assert "临期" in row.inner_text()
    assert_no_horizontal_overflow(liaison)
    with liaison.expect_navigation():
        row.get_by_role("link", name=problem.number).click()
    assert liaison.get_by_test_id("light").get_attribute("data-light") == "yellow"
    # The found photo is on the problem page.
    liaison.get_by_test_id("found-photos").locator("img").first.wait_for()

    # 3. ... signs for it, and submits the cause, the measures and an after-photo.
    with liaison.expect_navigation():
        liaison.get_by_test_id("move-accept").get_by_role("button", name="签收").click()
    submit = liaison.get_by_test_id("move-submit")
    submit.get_by_label("原因分析").fill("值日安排不到位，卫生死角无人负责")
    submit.get_by_label("整改措施").fill("已清理；卫生责任区落实到班，每日两次巡查")
    submit.locator("input[type=file]").set_input_files(files=[photo(2)])
    with liaison.expect_navigation():
        submit.get_by_role("button", name="提交整改").click()
    assert liaison.get_by_test_id("status").inner_text() == "待复核"
    assert_no_horizontal_overflow(liaison)
    screenshot(liaison, "ledger-flow-2-liaison")

    # 4. The campaign office re-checks and closes it.
    office = new_context(**DESKTOP).new_page()
    log_in(office, site, city.users[Role.OFFICE].username)
    office.goto(site.url(f"/ledger/{problem.pk}/"))
    office.get_by_test_id("after-photo").locator("img").first.wait_for()
    approve = office.get_by_test_id("move-approve")
    approve.get_by_label("复核意见").fill("现场复核，已整改到位")
    with office.expect_navigation():
        approve.get_by_role("button", name="复核通过并销号").click()
    assert office.get_by_test_id("status").inner_text() == "已销号"
    timeline = office.get_by_test_id("timeline").inner_text()
    for step in ("登记", "交办", "签收", "提交整改", "复核通过并销号"):
        assert step in timeline, step
    screenshot(office, "ledger-flow-3-office")

    # 5. The ledger export lists it with every date.
    office.goto(site.url("/ledger/"))
    with office.expect_download() as download:
        office.get_by_test_id("export").click()
    path = tmp_path / "ledger.xlsx"
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    header_row = next(i for i, r in enumerate(sheet.iter_rows(values_only=True), 1) if r and r[0] == "序号")
    header = [c.value for c in sheet[header_row]]
    rows = [
        dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=header_row + 1, values_only=True)
    ]
    (row,) = [r for r in rows if r["学校"] == city.school_a.name]
    assert row["对应标准"].startswith("1.1")
    assert row["状态"] == "已销号"
    assert row["复核人"] == city.users[Role.OFFICE].name
    assert "卫生责任区" in row["整改措施"]
    for column in ("发现时间", "整改时限", "销号时间"):
        assert row[column], column
    problem.refresh_from_db()
    assert problem.status == Status.CLOSED and problem.rechecked_by == city.users[Role.OFFICE]
