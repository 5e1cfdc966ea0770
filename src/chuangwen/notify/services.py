"""Writes of the notify app. `notify` is what other apps' services call, inside their transaction."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from chuangwen.core import audit

from .models import ChannelConfig, ChannelKind, Notification, Outbox

logger = logging.getLogger(__name__)

DEFAULT = "default"


def _absolute(link: str) -> str:
    base = getattr(settings, "NOTIFY_SITE_URL", "") or ""
    if not link:
        return ""
    if link.startswith(("http://", "https://")):
        return link
    return base.rstrip("/") + link if base else ""


def _schedule(outbox_ids: list[int]) -> None:
    if not outbox_ids:
        return

    def enqueue():
        from .tasks import deliver_outbox

        try:
            deliver_outbox.enqueue(outbox_ids)
        except Exception:  # the sweep picks them up within seconds anyway
            logger.exception("notify: could not enqueue delivery of %s", outbox_ids)

    transaction.on_commit(enqueue)


def _chunks(addresses: list[str], limit: int = 500) -> list[str]:
    """Comma-joined address lists that each fit the outbox's target field."""
    chunks: list[str] = []
    for address in addresses:
        if chunks and len(chunks[-1]) + 1 + len(address) <= limit:
            chunks[-1] += "," + address
        elif len(address) <= limit:
            chunks.append(address)
    return chunks


def _outbox_rows(*, configs, recipients: list[int], payload: dict, unit_id, dedupe: str) -> list[Outbox]:
    users = {}
    if recipients and any(c.kind in (ChannelKind.EMAIL, ChannelKind.SMS) for c in configs):
        users = {
            u["pk"]: u
            for u in get_user_model()
            .objects.filter(pk__in=recipients, is_active=True)
            .values("pk", "email", "phone")
        }
    rows = []
    for config in configs:
        targets: list[str] = [""]
        if config.kind == ChannelKind.EMAIL:
            addresses = list(config.settings.get("to") or [])
            if config.settings.get("to_recipients", True):
                addresses += [u["email"] for u in users.values() if u["email"]]
            targets = _chunks(list(dict.fromkeys(addresses)))
        elif config.kind == ChannelKind.SMS:
            phones = list(config.settings.get("phones") or [])
            if config.settings.get("to_recipients", True):
                phones += [u["phone"] for u in users.values() if u["phone"]]
            targets = list(dict.fromkeys(phones))
        for index, target in enumerate(targets):
            rows.append(
                Outbox(
                    channel=config.kind,
                    config=config,
                    unit_id=unit_id,
                    target=target[:500],
                    payload=payload,
                    dedupe_key=f"{dedupe[:150]}:{config.pk}:{index}",
                )
            )
    return rows


def notify(
    *,
    recipients: Sequence[int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    unit_id: int | None = None,
    channels: str | Sequence[str] = DEFAULT,
    dedupe_key: str = "",
) -> list[Outbox]:
    """Create in-app notifications and outbox messages in the caller's transaction; send on commit.

    `channels`: "default" = every enabled channel of the unit; a list of channel kinds = those only;
    () = in-app only. With a `dedupe_key`, calling twice creates nothing the second time.
    """
    recipient_ids = list(dict.fromkeys(int(r) for r in recipients))
    with transaction.atomic():
        if dedupe_key and (
            Notification.objects.filter(dedupe_key=dedupe_key).exists()
            or Outbox.objects.filter(dedupe_key__startswith=f"{dedupe_key[:150]}:").exists()
        ):
            return []
        Notification.objects.bulk_create(
            Notification(
                recipient_id=r,
                unit_id=unit_id,
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:500],
                dedupe_key=dedupe_key[:200],
            )
            for r in recipient_ids
        )
        configs = []
        if unit_id is not None and channels:
            configs = ChannelConfig.objects.filter(unit_id=unit_id, enabled=True)
            if channels != DEFAULT:
                kinds = [channels] if isinstance(channels, str) else list(channels)
                configs = configs.filter(kind__in=kinds)
            configs = list(configs)
        payload = {
            "kind": kind,
            "title": title,
            "body": body,
            "link": link,
            "url": _absolute(link),
            "unit_id": unit_id,
            "created_at": timezone.now().isoformat(),
        }
        rows = _outbox_rows(
            configs=configs,
            recipients=recipient_ids,
            payload=payload,
            unit_id=unit_id,
            dedupe=dedupe_key or uuid.uuid4().hex,
        )
        created = Outbox.objects.bulk_create(rows)
        ids = [o.pk for o in created]
        if None in ids:  # backends that do not return ids from bulk inserts
            ids = list(
                Outbox.objects.filter(dedupe_key__in=[o.dedupe_key for o in rows]).values_list(
                    "pk", flat=True
                )
            )
        _schedule(ids)
    return created


def notification_mark_read(*, notification: Notification, user) -> None:
    if notification.recipient_id != user.pk:
        raise PermissionError("not yours")
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now(), updated_at=timezone.now()
        )


def notifications_mark_all_read(*, user) -> int:
    now = timezone.now()
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now, updated_at=now
    )


@transaction.atomic
def channel_config_save(
    *, config: ChannelConfig, actor, request=None, new_secret: str | None = None
) -> ChannelConfig:
    """Create or change a unit's channel; `new_secret` None keeps the stored secret."""
    creating = config.pk is None
    if new_secret is not None:
        config.secret = new_secret
    config.full_clean()
    config.save()
    audit.record(
        "notify.channel_created" if creating else "notify.channel_changed",
        actor=actor,
        request=request,
        obj=config,
        # Which settings keys, not their values: webhook URLs carry keys.
        data={
            "unit_id": config.unit_id,
            "kind": config.kind,
            "enabled": config.enabled,
            "settings_keys": sorted(config.settings),
            "secret_changed": new_secret is not None,
        },
    )
    return config


@transaction.atomic
def channel_config_test(*, config: ChannelConfig, actor, request=None) -> list[Outbox]:
    """Queue a test message through this one (enabled) channel, addressed to the actor."""
    payload = {
        "kind": "test",
        "title": "【测试】创文平台通知渠道测试",
        "body": f"这是一条测试消息，由{getattr(actor, 'name', '') or actor.get_username()}发送。",
        "link": "",
        "url": "",
        "unit_id": config.unit_id,
        "created_at": timezone.now().isoformat(),
    }
    rows = _outbox_rows(
        configs=[config],
        recipients=[actor.pk],
        payload=payload,
        unit_id=config.unit_id,
        dedupe=uuid.uuid4().hex,
    )
    created = Outbox.objects.bulk_create(rows)
    audit.record(
        "notify.channel_tested",
        actor=actor,
        request=request,
        obj=config,
        data={"outbox": [o.pk for o in created]},
    )
    _schedule([o.pk for o in created])
    return created
