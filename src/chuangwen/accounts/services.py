"""Every change to users, sessions and tokens. Views, the API, admin and the CLI call these."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from chuangwen.core import audit

from .models import ApiToken, User, UserSession, hash_token


class AccountError(ValidationError):
    """A refused change, with a message meant for the person who asked."""


@transaction.atomic
def user_create(
    *,
    username: str,
    name: str,
    password: str | None,
    phone: str = "",
    email: str = "",
    actor=None,
    request=None,
) -> User:
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError({"username": f"用户名“{username}”已被使用"})
    user = User(username=username, name=name.strip(), phone=phone.strip(), email=email.strip())
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        "user.create",
        actor=actor,
        request=request,
        obj=user,
        data={"name": user.name, "phone": user.masked_phone},
    )
    return user


@transaction.atomic
def user_update(*, user: User, name: str, phone: str, email: str, actor=None, request=None) -> User:
    changed = {}
    for field, value in (("name", name.strip()), ("phone", phone.strip()), ("email", email.strip())):
        if getattr(user, field) != value:
            changed[field] = value if field != "phone" else "已修改"
            setattr(user, field, value)
    if not changed:
        return user
    user.full_clean(exclude=["password"])
    user.save(update_fields=[*changed, "updated_at"])
    audit.record("user.update", actor=actor, request=request, obj=user, data={"changed": sorted(changed)})
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, actor=None, request=None) -> User:
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    audit.record("user.set_password", actor=actor, request=request, obj=user)
    return user


def _end_sessions(user: User) -> int:
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    deleted, _ = Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    if keys:
        from django.core.cache import cache

        # cached_db sessions (Redis deployments) keep a copy in the cache.
        cache.delete_many([f"django.contrib.sessions.cached_db{key}" for key in keys])
    return deleted


@transaction.atomic
def user_deactivate(*, user: User, actor=None, request=None) -> User:
    if actor is not None and actor.pk == user.pk:
        raise AccountError("不能停用自己的账号")
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    ended = _end_sessions(user)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record("user.deactivate", actor=actor, request=request, obj=user, data={"sessions_ended": ended})
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor=None, request=None) -> User:
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    audit.record("user.reactivate", actor=actor, request=request, obj=user)
    return user


@transaction.atomic
def user_end_sessions(*, user: User, actor=None, request=None) -> int:
    ended = _end_sessions(user)
    audit.record("user.end_sessions", actor=actor, request=request, obj=user, data={"sessions_ended": ended})
    return ended


@transaction.atomic
def token_create(*, user: User, name: str, actor=None, request=None) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name.strip() or "集成", key_prefix=raw[:10], key_hash=hash_token(raw)
    )
    audit.record("token.create", actor=actor, request=request, obj=token, data={"user": user.username})
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, actor=None, request=None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit.record("token.revoke", actor=actor, request=request, obj=token)
    return token


def token_authenticate(raw: str) -> User | None:
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
