"""User services and the user-management pages: create, deactivate, reactivate, passwords, tokens, phones."""

import pytest
from conftest import PASSWORD
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ValidationError
from django.test import Client

from chuangwen.accounts import services
from chuangwen.accounts.models import ApiToken, User, hash_token, mask_phone
from chuangwen.core.audit import verify_chain
from chuangwen.core.models import AuditEvent
from chuangwen.org.tests.factories import UserFactory

GOOD = "Qingshan#River2026"
PHONE = "13812341234"
MASKED = "138****1234"


def login(client, user, password=PASSWORD):
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content.decode()[:300]


def audit(event_type):
    return AuditEvent.objects.filter(event_type=event_type).order_by("-seq").first()


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- services ---------------------------------------------------------------------------------------


def test_user_create_stores_a_hashed_password_and_audits_a_masked_phone(city):
    admin = city.users["admin"]
    user = services.user_create(username=" lisi ", name="李四", password=GOOD, phone=PHONE, actor=admin)
    user.refresh_from_db()
    assert user.username == "lisi"
    assert user.password != GOOD
    assert user.check_password(GOOD)
    event = audit("user.create")
    assert (event.actor_id, event.object_id) == (admin.pk, str(user.pk))
    assert event.data == {"name": "李四", "phone": MASKED}
    assert PHONE not in str(AuditEvent.objects.values_list("data", flat=True))


def test_user_create_refuses_a_taken_username_whatever_its_case(city):
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="LIAISON_USER", name="重名", password=GOOD)
    assert excinfo.value.message_dict == {"username": ["用户名“LIAISON_USER”已被使用"]}
    assert User.objects.filter(username__iexact="liaison_user").count() == 1


def test_user_create_refuses_a_bad_phone_number(db):
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="lisi", name="李四", password=GOOD, phone="12345")
    assert excinfo.value.message_dict == {"phone": ["请输入 11 位中国大陆手机号"]}
    assert not User.objects.filter(username="lisi").exists()


def test_user_create_without_password_cannot_log_in(client, db):
    user = services.user_create(username="lisi", name="李四", password=None)
    assert not user.has_usable_password()
    response = client.post("/accounts/login/", {"username": "lisi", "password": ""})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_deactivate_and_reactivate(client, city):
    user, admin = city.users["teacher"], city.users["admin"]
    services.user_deactivate(user=user, actor=admin)
    user.refresh_from_db()
    assert not user.is_active
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    assert SESSION_KEY not in client.session

    services.user_reactivate(user=user, actor=admin)
    user.refresh_from_db()
    assert user.is_active
    login(client, user)
    assert [
        e.event_type
        for e in AuditEvent.objects.filter(object_id=str(user.pk), object_type="accounts.user").exclude(
            event_type__startswith="auth."
        )
    ] == ["user.deactivate", "user.reactivate"]


def test_nobody_deactivates_themselves(city):
    admin = city.users["admin"]
    with pytest.raises(ValidationError) as excinfo:
        services.user_deactivate(user=admin, actor=admin)
    assert excinfo.value.messages == ["不能停用自己的账号"]
    admin.refresh_from_db()
    assert admin.is_active
    assert audit("user.deactivate") is None


def test_set_password_logs_the_user_out_of_existing_sessions(city):
    user = city.users["teacher"]
    browser = Client()
    login(browser, user)
    services.user_set_password(user=user, password=GOOD, actor=city.users["admin"])
    response = browser.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    login(browser, user, GOOD)
    assert audit("user.set_password").object_id == str(user.pk)


def test_token_is_stored_only_as_a_hash_and_authenticates(city):
    user = city.users["teacher"]
    token, raw = services.token_create(user=user, name="市级平台", actor=user)
    assert raw.startswith("cw_")
    assert token.key_hash == hash_token(raw)
    assert raw not in str(ApiToken.objects.values_list("key_prefix", "key_hash", "name"))
    assert token.key_prefix == raw[:10]
    assert services.token_authenticate(raw) == user
    assert services.token_authenticate(raw + "x") is None
    assert services.token_authenticate("") is None
    assert services.token_authenticate(raw[3:]) is None  # without the prefix
    assert raw not in str(AuditEvent.objects.values_list("data", "object_repr"))


def test_revoked_token_and_inactive_owner_no_longer_authenticate(city):
    user = city.users["teacher"]
    token, raw = services.token_create(user=user, name="集成", actor=user)
    _, other_raw = services.token_create(user=user, name="另一个", actor=user)
    services.token_revoke(token=token, actor=user)
    assert services.token_authenticate(raw) is None
    assert services.token_authenticate(other_raw) == user
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert services.token_authenticate(other_raw) is None


def test_token_records_its_last_use(city):
    user = city.users["teacher"]
    token, raw = services.token_create(user=user, name="集成", actor=user)
    assert token.last_used_at is None
    services.token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_user_services_keep_the_audit_chain_intact(city):
    admin = city.users["admin"]
    user = services.user_create(username="wangwu", name="王五", password=GOOD, actor=admin)
    services.user_update(user=user, name="王五", phone=PHONE, email="", actor=admin)
    services.user_set_password(user=user, password="Another#Pass2026", actor=admin)
    services.token_create(user=user, name="集成", actor=admin)
    services.user_deactivate(user=user, actor=admin)
    services.user_reactivate(user=user, actor=admin)
    result = verify_chain()
    assert result.ok, result.reason
    assert audit("user.update").data == {"changed": ["phone"]}


def test_mask_phone():
    assert mask_phone(PHONE) == MASKED
    assert mask_phone("") == ""
    assert mask_phone("12345") == "*****"


# --- pages under /org/users/ ---------------------------------------------------------------------


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.users["admin"])
    return client


@pytest.fixture
def phone_user(city):
    return UserFactory(username="phoneuser", name="有手机的人", phone=PHONE)


@pytest.mark.parametrize("role", ["office", "leader", "liaison", "teacher"])
def test_user_pages_are_for_system_administrators_only(client, city, role):
    client.force_login(city.users[role])
    target = city.users["teacher"]
    assert client.get("/org/users/").status_code == 403
    assert client.get(f"/org/users/{target.pk}/").status_code == 403
    assert client.post("/org/users/new/", {"username": "x", "name": "x", "password": GOOD}).status_code == 403
    assert client.post(f"/org/users/{target.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"/org/users/{target.pk}/password/", {"password": GOOD}).status_code == 403
    target.refresh_from_db()
    assert target.is_active
    assert target.check_password(PASSWORD)
    assert not User.objects.filter(username="x").exists()


def test_user_pages_send_anonymous_visitors_to_login(client, city):
    response = client.get("/org/users/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/org/users/"


def test_user_list_and_detail_show_only_masked_phones(admin_client, phone_user):
    for url in ("/org/users/", f"/org/users/{phone_user.pk}/", "/org/users/?q=有手机"):
        response = admin_client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert MASKED in body, url
        assert PHONE not in body, url


def test_api_me_shows_only_the_masked_phone(client, phone_user):
    client.force_login(phone_user)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["phone"] == MASKED
    assert PHONE not in response.content.decode()


def test_admin_creates_a_user_through_the_page(admin_client):
    response = admin_client.post(
        "/org/users/new/",
        {
            "username": "zhaoliu",
            "name": "赵六",
            "phone": PHONE,
            "email": "",
            "password": GOOD,
        },
    )
    user = User.objects.get(username="zhaoliu")
    assert response.status_code == 302
    assert response["Location"] == f"/org/users/{user.pk}/"
    assert user.check_password(GOOD)
    assert user.phone == PHONE
    assert audit("user.create").object_id == str(user.pk)


def test_create_page_shows_the_reason_a_password_is_refused(admin_client):
    response = admin_client.post(
        "/org/users/new/",
        {
            "username": "zhaoliu",
            "name": "赵六",
            "phone": "",
            "email": "",
            "password": "Password123",
        },
    )
    assert response.status_code == 200
    assert "这个密码太常见了。" in response.content.decode()
    assert not User.objects.filter(username="zhaoliu").exists()


def test_deactivate_through_the_page_ends_sessions(admin_client, city):
    target = city.users["teacher"]
    browser = Client()
    login(browser, target)
    response = admin_client.post(f"/org/users/{target.pk}/active/", {"active": "0"}, follow=True)
    assert response.status_code == 200
    assert f"已停用“{target.name}”，其所有登录会话已结束。" in page_messages(response)
    target.refresh_from_db()
    assert not target.is_active
    assert browser.get("/").status_code == 302

    response = admin_client.post(f"/org/users/{target.pk}/active/", {"active": "1"}, follow=True)
    assert f"已启用“{target.name}”。" in page_messages(response)
    target.refresh_from_db()
    assert target.is_active


def test_admin_cannot_deactivate_themselves_through_the_page(admin_client, city):
    admin = city.users["admin"]
    response = admin_client.post(f"/org/users/{admin.pk}/active/", {"active": "0"}, follow=True)
    assert "不能停用自己的账号" in page_messages(response)
    admin.refresh_from_db()
    assert admin.is_active
    assert admin_client.get("/").status_code == 200


def test_set_password_through_the_page(admin_client, city):
    target = city.users["teacher"]
    response = admin_client.post(f"/org/users/{target.pk}/password/", {"password": GOOD}, follow=True)
    assert "密码已重置。" in page_messages(response)
    target.refresh_from_db()
    assert target.check_password(GOOD)


def test_end_sessions_through_the_page(admin_client, city):
    target = city.users["teacher"]
    browser = Client()
    login(browser, target)
    response = admin_client.post(f"/org/users/{target.pk}/sessions/end/", follow=True)
    assert "已结束 1 个登录会话。" in page_messages(response)
    assert browser.get("/").status_code == 302
    target.refresh_from_db()
    assert target.is_active


def test_user_pages_refuse_get_for_changes(admin_client, city):
    target = city.users["teacher"]
    assert admin_client.get(f"/org/users/{target.pk}/active/").status_code == 405
    assert admin_client.get(f"/org/users/{target.pk}/password/").status_code == 405
    assert admin_client.get(f"/org/users/{target.pk}/sessions/end/").status_code == 405


# --- tokens page -------------------------------------------------------------------------------------


def test_token_page_shows_the_raw_token_once(client, city):
    user = city.users["teacher"]
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "市级平台"})
    assert response.status_code == 200
    raw = response.context["raw"]
    assert raw in response.content.decode()
    assert services.token_authenticate(raw) == user
    again = client.get("/accounts/tokens/")
    assert raw not in again.content.decode()
    assert raw[:10] in again.content.decode()


def test_token_revoke_page_only_reaches_your_own_tokens(client, city):
    owner, other = city.users["teacher"], city.users["liaison"]
    token, raw = services.token_create(user=owner, name="集成", actor=owner)
    client.force_login(other)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    assert services.token_authenticate(raw) == owner
    client.force_login(owner)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert services.token_authenticate(raw) is None
