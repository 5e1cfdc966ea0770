"""Password policy: length, character classes, common and personal passwords, in Chinese."""

import importlib.util
import sys

import pytest
from conftest import PASSWORD
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings

from chuangwen.accounts import services
from chuangwen.accounts.models import User
from chuangwen.config.settings import base as base_settings

GOOD = "Qingshan#River2026"
SHORT = "Ab#12345x"  # 9 characters, all four classes
TWO_CLASSES = "qingshanriver2026"  # lower-case and digits only
COMMON = "Password123"  # three classes, 11 characters, but on the common list
SIMILAR = "Zhangwei2026!"  # four classes, 13 characters, but nearly the username

SHORT_MSG = "密码太短，至少需要 10 个字符。"
CLASSES_MSG = "密码至少要包含小写字母、大写字母、数字、符号中的 3 类。"
COMMON_MSG = "这个密码太常见了。"
SIMILAR_MSG = "密码跟 用户名 太相似了。"

OUR_LENGTH_VALIDATOR = "chuangwen.accounts.passwords.MinimumLengthValidator"


def validators(min_length: int, min_classes: int) -> list[dict]:
    """The production list, with the length rule answering in Chinese."""
    result = []
    for entry in base_settings.AUTH_PASSWORD_VALIDATORS:
        entry = {**entry, "OPTIONS": dict(entry.get("OPTIONS", {}))}
        if entry["NAME"].endswith("MinimumLengthValidator"):
            entry["NAME"] = OUR_LENGTH_VALIDATOR
            entry["OPTIONS"]["min_length"] = min_length
        if entry["NAME"].endswith("CharacterClassValidator"):
            entry["OPTIONS"]["min_classes"] = min_classes
        result.append(entry)
    return result


@pytest.fixture
def person(db):
    return User.objects.create_user(username="zhangwei2026", name="张伟", password=PASSWORD)


def messages_for(password, user) -> list[str]:
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password, user)
    return excinfo.value.messages


def test_settings_take_length_and_classes_from_their_named_values():
    options = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {}) for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert options["MinimumLengthValidator"] == {"min_length": settings.PASSWORD_MIN_LENGTH}
    assert options["CharacterClassValidator"] == {"min_classes": settings.PASSWORD_MIN_CLASSES}
    assert (settings.PASSWORD_MIN_LENGTH, settings.PASSWORD_MIN_CLASSES) == (10, 3)


def test_environment_sets_length_and_classes(monkeypatch, tmp_path):
    monkeypatch.setenv("CHUANGWEN_PASSWORD_MIN_LENGTH", "14")
    monkeypatch.setenv("CHUANGWEN_PASSWORD_MIN_CLASSES", "4")
    monkeypatch.setenv("CHUANGWEN_DATA_DIR", str(tmp_path))
    spec = importlib.util.spec_from_file_location("_cw_settings_probe", base_settings.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules.pop("_cw_settings_probe", None)
    options = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {}) for v in module.AUTH_PASSWORD_VALIDATORS}
    assert options["MinimumLengthValidator"] == {"min_length": 14}
    assert options["CharacterClassValidator"] == {"min_classes": 4}


def test_good_password_is_accepted(person):
    validate_password(GOOD, person)
    services.user_set_password(user=person, password=GOOD)
    person.refresh_from_db()
    assert person.check_password(GOOD)


@pytest.mark.parametrize(
    ("password", "message"),
    [(TWO_CLASSES, CLASSES_MSG), (COMMON, COMMON_MSG), (SIMILAR, SIMILAR_MSG)],
    ids=["two-classes", "common", "like-username"],
)
def test_weak_password_is_refused_with_one_chinese_reason(person, password, message):
    assert messages_for(password, person) == [message]


def test_short_password_is_refused_in_chinese_with_the_production_settings(person):
    assert messages_for(SHORT, person) == [SHORT_MSG]


def test_short_password_is_refused_in_chinese(person):
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators(10, 3)):
        assert messages_for(SHORT, person) == [SHORT_MSG]
        validate_password(GOOD, person)


def test_a_password_of_exactly_the_minimum_length_passes(person):
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators(10, 3)):
        validate_password("Ab#1234567", person)


def test_stricter_settings_are_obeyed(person):
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators(20, 4)):
        assert messages_for(GOOD, person) == ["密码太短，至少需要 20 个字符。"]
        assert messages_for("Qingshanriver2026abcd", person) == [
            "密码至少要包含小写字母、大写字母、数字、符号中的 4 类。"
        ]
        validate_password("Qingshan#River2026abc", person)


def test_looser_settings_are_obeyed(person):
    with override_settings(AUTH_PASSWORD_VALIDATORS=validators(8, 2)):
        validate_password(TWO_CLASSES, person)
        validate_password("Ab#1234x", person)


def test_service_refuses_a_weak_password_and_keeps_the_old_one(person):
    with pytest.raises(ValidationError) as excinfo:
        services.user_set_password(user=person, password=COMMON)
    assert excinfo.value.messages == [COMMON_MSG]
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_user_create_refuses_a_weak_password(db):
    with pytest.raises(ValidationError) as excinfo:
        services.user_create(username="lisi", name="李四", password=TWO_CLASSES)
    assert excinfo.value.messages == [CLASSES_MSG]
    assert not User.objects.filter(username="lisi").exists()


def test_own_password_change_shows_the_chinese_reason(client, person):
    client.force_login(person)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": SIMILAR,
            "new_password2": SIMILAR,
        },
    )
    assert response.status_code == 200
    assert SIMILAR_MSG in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_own_password_change_accepts_a_good_password(client, person):
    client.force_login(person)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": GOOD,
            "new_password2": GOOD,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(GOOD)


def test_admin_reset_page_shows_the_chinese_reason(client, city):
    target = city.users["teacher"]
    client.force_login(city.users["admin"])
    response = client.post(f"/org/users/{target.pk}/password/", {"password": COMMON}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert COMMON_MSG in body
    assert "密码已重置" not in body
    target.refresh_from_db()
    assert target.check_password(PASSWORD)
