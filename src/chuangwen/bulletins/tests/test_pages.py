"""The bulletin pages and API: draft → edit → preview → issue → download → reissue, and who gets what."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from chuangwen.bulletins import services
from chuangwen.bulletins.models import Bulletin
from chuangwen.core.roles import Role

from .factories import make_draft, make_setup_for


@pytest.fixture
def setup(city):
    return make_setup_for(city)


def test_office_drafts_edits_issues_downloads_and_reissues(client, city, setup):
    client.force_login(city.users[Role.OFFICE])
    assert client.get("/bulletins/new/").status_code == 200
    bad = client.post(
        "/bulletins/new/",
        {"campaign": setup.campaign.pk, "period_start": "2026-10-31", "period_end": "2026-10-01"},
    )
    assert bad.status_code == 200 and "截止日期不能早于起始日期" in bad.content.decode()
    assert not Bulletin.objects.exists()
    response = client.post(
        "/bulletins/new/",
        {
            "campaign": setup.campaign.pk,
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "label": "月报",
        },
    )
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/bulletins/{bulletin.pk}/edit/"
    assert client.get(response["Location"]).status_code == 200

    both = client.post(
        f"/bulletins/{bulletin.pk}/edit/",
        {
            "title": "关于十月创文工作的通报",
            "commended": [city.school_a.pk],
            "criticised": [city.school_a.pk],
        },
    )
    assert both.status_code == 200 and "不能同时被表扬和批评" in both.content.decode()
    saved = client.post(
        f"/bulletins/{bulletin.pk}/edit/",
        {
            "title": "关于十月创文工作的通报",
            "intro": "现将十月情况通报如下：",
            "requirements": "（一）立即整改。",
            "addressed_to_all": "on",
            "commended": [city.school_c.pk],
            "criticised": [city.school_a.pk],
        },
    )
    assert saved.status_code == 302
    preview = client.get(f"/bulletins/{bulletin.pk}/").content.decode()
    assert (
        "关于十月创文工作的通报" in preview
        and "（草稿，印发时编号）" in preview
        and "data:image/png" in preview
    )
    confirm = client.get(f"/bulletins/{bulletin.pk}/issue/").content.decode()
    assert "确认印发" in confirm and "不能再修改" in confirm

    issued = client.post(f"/bulletins/{bulletin.pk}/issue/")
    assert issued.status_code == 302
    bulletin.refresh_from_db()
    year = timezone.localdate().year
    assert bulletin.status == "issued" and bulletin.number == f"X教体创文〔{year}〕1号"
    page = client.get(f"/bulletins/{bulletin.pk}/").content.decode()
    assert bulletin.number in page and bulletin.content_sha256 in page

    refused = client.post(f"/bulletins/{bulletin.pk}/edit/", {"title": "改"}, follow=True)
    assert "已印发" in refused.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.title == "关于十月创文工作的通报"

    docx = client.get(f"/bulletins/{bulletin.pk}/docx/")
    assert docx.status_code == 200 and docx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in docx["Content-Disposition"] and docx.content[:2] == b"PK"
    pdf = client.get(f"/bulletins/{bulletin.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    again = client.post(f"/bulletins/{bulletin.pk}/reissue/")
    draft = Bulletin.objects.get(reissue_of=bulletin)
    assert again["Location"] == f"/bulletins/{draft.pk}/edit/"
    client.post(f"/bulletins/{draft.pk}/issue/")
    draft.refresh_from_db()
    assert draft.number and draft.number != bulletin.number


def test_schools_read_issued_bulletins_only(client, city, setup):
    draft = make_draft(city, campaign=setup.campaign)
    issued = services.bulletin_issue(
        bulletin=make_draft(city, campaign=setup.campaign), actor=city.users[Role.OFFICE]
    )
    client.force_login(city.users[Role.LIAISON])
    listing = client.get("/bulletins/").content.decode()
    assert issued.number in listing and draft.title not in listing.replace(issued.title, "")
    assert client.get(f"/bulletins/{draft.pk}/").status_code == 404
    assert client.get(f"/bulletins/{draft.pk}/docx/").status_code == 404
    assert client.get(f"/bulletins/{issued.pk}/").status_code == 200
    assert client.post(f"/bulletins/{issued.pk}/reissue/").status_code == 403
    assert "生成通报" not in listing


def test_a_bulletin_for_named_schools_stays_with_them(client, city, setup):
    office = city.users[Role.OFFICE]
    draft = make_draft(city, campaign=setup.campaign)
    services.bulletin_update(
        bulletin=draft, actor=office, addressed_to_all=False, commended=[city.school_a], criticised=[]
    )
    issued = services.bulletin_issue(bulletin=draft, actor=office)
    client.force_login(city.outsider)  # school_c: not named
    assert client.get(f"/bulletins/{issued.pk}/").status_code == 404
    assert client.get(f"/api/bulletins/{issued.pk}").status_code == 404
    client.force_login(city.users[Role.SCHOOL_HEAD])
    assert client.get(f"/bulletins/{issued.pk}/").status_code == 200


def _post_json(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


def test_api_create_issue_and_download(client, city, setup):
    client.force_login(city.users[Role.OFFICE])
    bad = _post_json(
        client,
        "/api/bulletins/",
        {"campaign_id": setup.campaign.pk, "period_start": "2026-10-31", "period_end": "2026-10-01"},
    )
    assert bad.status_code == 422 and bad.json()["detail"] == {"period_end": ["截止日期不能早于起始日期"]}
    created = _post_json(
        client, "/api/bulletins/", {"campaign_id": setup.campaign.pk, "round_id": setup.round.pk}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["number"] == "" and body["kind"] == "round"
    assert {r["name"] for r in body["content"]["ranking"]} == {city.school_a.name, city.school_c.name}
    issued = _post_json(client, f"/api/bulletins/{body['id']}/issue")
    assert issued.status_code == 200 and issued.json()["number"].endswith("号")
    assert issued.json()["content_sha256"] == Bulletin.objects.get(pk=body["id"]).content_sha256
    twice = _post_json(client, f"/api/bulletins/{body['id']}/issue")
    assert twice.status_code == 422 and "已印发" in json.dumps(twice.json(), ensure_ascii=False)
    assert client.get(f"/api/bulletins/{body['id']}/docx").content[:2] == b"PK"
    assert client.get(f"/api/bulletins/{body['id']}/pdf").content.startswith(b"%PDF")

    client.force_login(city.users[Role.LEADER])
    refused = _post_json(
        client, "/api/bulletins/", {"campaign_id": setup.campaign.pk, "round_id": setup.round.pk}
    )
    assert refused.status_code == 403
    assert [b["id"] for b in client.get("/api/bulletins/").json()] == [body["id"]]


def test_api_lists_what_the_caller_may_see(client, city, setup):
    draft = make_draft(city, campaign=setup.campaign)
    issued = services.bulletin_issue(
        bulletin=make_draft(city, campaign=setup.campaign), actor=city.users[Role.OFFICE]
    )
    client.force_login(city.users[Role.TEACHER])
    assert [b["id"] for b in client.get("/api/bulletins/").json()] == [issued.pk]
    assert client.get(f"/api/bulletins/{draft.pk}").status_code == 404
    assert _post_json(client, f"/api/bulletins/{draft.pk}/issue").status_code == 403
    detail = client.get(f"/api/bulletins/{issued.pk}").json()
    assert detail["number"] == issued.number and detail["content"]["ranking"]


def test_settings_page_sets_the_number_prefix_and_refuses_a_bad_one(client, city, setup):
    client.force_login(city.users[Role.OFFICE])
    bad = client.post(
        "/bulletins/settings/", {"number_prefix": "东教〔2026〕", "issuer_name": "东市教育体育局"}
    )
    assert bad.status_code == 200 and "不含〔年份〕和序号" in bad.content.decode()
    ok = client.post(
        "/bulletins/settings/",
        {"number_prefix": "东教体创文", "issuer_name": "东市教育体育局", "header_text": "东市创文工作通报"},
    )
    assert ok.status_code == 302
    issued = services.bulletin_issue(
        bulletin=make_draft(city, campaign=setup.campaign), actor=city.users[Role.OFFICE]
    )
    assert issued.number.startswith("东教体创文〔") and issued.issuer_name == "东市教育体育局"
    assert issued.content["header"] == "东市创文工作通报"


def test_schedule_page_adds_and_toggles_a_schedule(client, city, setup):
    from chuangwen.bulletins.models import BulletinSchedule

    client.force_login(city.users[Role.OFFICE])
    bad = client.post(
        "/bulletins/schedules/",
        {"name": "三天一通报", "campaign": setup.campaign.pk, "cadence": "working_days", "every": "0",
         "weekday": "0", "start_date": "2026-11-02"},
    )  # fmt: skip
    assert bad.status_code == 200 and not BulletinSchedule.objects.exists()
    ok = client.post(
        "/bulletins/schedules/",
        {"name": "三天一通报", "campaign": setup.campaign.pk, "cadence": "working_days", "every": "3",
         "weekday": "0", "start_date": "2026-11-02"},
    )  # fmt: skip
    assert ok.status_code == 302
    item = BulletinSchedule.objects.get()
    assert (item.every, item.active) == (3, True)
    assert "三天一通报" in client.get("/bulletins/schedules/").content.decode()
    client.post(f"/bulletins/schedules/{item.pk}/toggle/")
    item.refresh_from_db()
    assert not item.active
