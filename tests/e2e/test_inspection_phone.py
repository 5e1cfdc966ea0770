"""On a phone in WeChat's browser: start an inspection from the round page, answer by tapping (each answer
saved at once by htmx), count with − / +, take a photo, open a ledger problem with one tap, submit."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from tests.e2e.test_login_flows import assert_no_horizontal_overflow, log_in

from chuangwen.core.roles import Role
from chuangwen.inspections.models import Answer, Inspection
from chuangwen.ledger.models import Problem

pytestmark = pytest.mark.browser


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 160, 60)).save(buf, "JPEG")
    return buf.getvalue()


def test_inspector_scores_a_school_on_a_phone(site, phone_page, city, screenshot):
    from chuangwen.ledger.tests.factories import make_setup

    setup = make_setup(city)
    page = phone_page
    log_in(page, site, city.users[Role.INSPECTOR].username)
    page.goto(site.url(f"/campaigns/rounds/{setup.round.pk}/"))
    school_a = page.get_by_test_id("school").filter(has_text=city.school_a.name)
    with page.expect_navigation():
        school_a.get_by_test_id("inspection-start").click()
    inspection = Inspection.objects.get(round=setup.round, school=city.school_a)
    assert page.url.endswith(f"/inspections/{inspection.pk}/")
    assert_no_horizontal_overflow(page)

    card = page.locator(f"#s{setup.standards['1.1'].pk}")
    card.get_by_text("不达标", exact=True).click()
    card = page.locator(f"#s{setup.standards['1.1'].pk}")
    card.get_by_test_id("saved").wait_for()
    assert re.search(r"已保存 \d\d:\d\d", card.inner_text())
    page.get_by_test_id("progress").filter(has_text="已评 1 / 4 项").wait_for()
    assert "还有 3 项未评" in page.locator("#unanswered").inner_text()

    deduction = f"#s{setup.standards['1.3'].pk}"
    page.locator(deduction).get_by_role("button", name="增加一处").click()
    page.locator(deduction).get_by_test_id("saved").wait_for()
    page.locator(deduction).get_by_role("button", name="增加一处").click()
    page.locator(deduction).locator("input[name=occurrences][value='2']").wait_for()
    assert Answer.objects.get(standard=setup.standards["1.3"]).occurrences == 2

    page.locator(f"#s{setup.standards['1.1'].pk} input[type=file]").set_input_files(
        files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": _jpeg_bytes()}]
    )
    page.locator(f"#s{setup.standards['1.1'].pk}").get_by_test_id("thumb").wait_for()

    # The phone loses its network: the card says the answer was not saved.
    page.context.set_offline(True)
    pass_fail = page.locator(f"#s{setup.standards['1.2'].pk}")
    pass_fail.get_by_text("合格", exact=True).click()
    pass_fail.get_by_test_id("error").filter(has_text="网络中断，本项没有保存").wait_for()
    page.context.set_offline(False)
    assert not Answer.objects.filter(standard=setup.standards["1.2"]).exists()

    page.locator(f"#s{setup.standards['1.1'].pk}").get_by_test_id("problem-button").click()
    page.locator(f"#s{setup.standards['1.1'].pk}").get_by_test_id("problem").wait_for()
    assert Problem.objects.filter(answer__standard=setup.standards["1.1"]).count() == 1
    assert_no_horizontal_overflow(page)
    screenshot(page, "inspection-phone")

    page.get_by_label("仅检查部分标准（未评的标准不计入得分）").check()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="提交检查结果").click()
    page.get_by_test_id("score").wait_for()
    inspection.refresh_from_db()
    assert inspection.is_submitted
    assert_no_horizontal_overflow(page)
    screenshot(page, "inspection-phone-result")

    page.goto(site.url("/inspections/"))
    page.get_by_test_id("tasks").get_by_text("查看结果").wait_for()
    assert_no_horizontal_overflow(page)
    screenshot(page, "inspection-phone-list")
    page.goto(site.url(f"/campaigns/rounds/{setup.round.pk}/"))
    page.get_by_test_id("inspection-result").wait_for()
    assert_no_horizontal_overflow(page)
