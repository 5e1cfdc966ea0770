"""The audit chain: append events, walk and verify them.

Each event's hash is HMAC-SHA256(key, prev_hash ‖ canonical JSON of the event). The key comes from
CHUANGWEN_AUDIT_KEY or, in embedded mode, from a file in the data directory: never from the database,
so someone with only database access cannot rewrite history and recompute the chain.

Appends lock the single ChainHead row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
transactions already serialise writers), so concurrent writers queue and the chain never forks.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .models import AuditEvent, ChainHead

GENESIS = "0" * 64


@lru_cache(maxsize=4)
def _key_for(configured: str, key_file: str) -> bytes:
    if configured:
        return configured.encode()
    from pathlib import Path

    path = Path(key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def audit_key() -> bytes:
    return _key_for(settings.AUDIT_KEY, str(settings.AUDIT_KEY_FILE))


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(event: AuditEvent) -> bytes:
    payload = {
        "seq": int(event.seq),
        "created_at": _iso(event.created_at),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "ip": event.ip,
        "event_type": event.event_type,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "result": event.result,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent, key: bytes | None = None) -> str:
    key = key or audit_key()
    return hmac.new(key, event.prev_hash.encode() + canonical_json(event), hashlib.sha256).hexdigest()


def head_mac(last_seq: int, last_hash: str, key: bytes | None = None) -> str:
    key = key or audit_key()
    return hmac.new(key, f"head|{last_seq}|{last_hash}".encode(), hashlib.sha256).hexdigest()


def _normalise_ip(value: str | None) -> str | None:
    """The address in the one form the database gives back (IPv6 compressed), or None if it is not one.

    The hash is computed before the row is saved, so the stored value must not differ from the hashed
    one; and a forged header must not make the insert fail on PostgreSQL's inet column.
    """
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if address.version == 6:
        return clean_ipv6_address(str(address))
    return str(address)


def _json_number(text: str) -> float | int:
    """A JSON number as the database will give it back.

    PostgreSQL's jsonb stores numbers as exact decimals, so 1e+16 comes back as 10000000000000000 and -0.0
    as 0: keep whole numbers as ints, or the hash of the stored row would differ from the one computed here.
    """
    value = float(text)
    if value.is_integer():
        return int(decimal.Decimal(text))
    return value


def client_ip(request) -> str | None:
    if request is None:
        return None
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= proxies:
            return _normalise_ip(hops[-proxies])
    return _normalise_ip(request.META.get("REMOTE_ADDR"))


def record(
    event_type: str,
    *,
    actor=None,
    request=None,
    role: str | None = None,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    result: str = AuditEvent.Result.SUCCESS,
    data: dict[str, Any] | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction if there is one."""
    user = getattr(request, "user", None) if request is not None else None
    if actor is None and user is not None and user.is_authenticated:
        actor = user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    if role is None:
        from . import access

        role = access.role_label(actor) if actor is not None else ""
    key = audit_key()
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            # The migration makes this row; a flushed test database (or a restore) may lack it. With events
            # present and no head, the insert of seq 1 fails rather than fork the chain.
            ChainHead.objects.get_or_create(pk=1, defaults={"last_seq": 0, "last_hash": GENESIS})
            head = ChainHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            created_at=timezone.now().astimezone(dt.UTC),
            actor_id=actor.pk if actor is not None else None,
            actor_username=(actor.get_username() if actor is not None else username)[:150],
            actor_role=(role or "")[:200],
            ip=client_ip(request),
            event_type=event_type,
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            object_repr=str(object_repr)[:255],
            result=result,
            data=json.loads(
                json.dumps(data or {}, ensure_ascii=False, default=str), parse_float=_json_number
            ),
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event, key)
        event.save()
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.mac = head_mac(event.seq, event.hash, key)
        head.save(update_fields=["last_seq", "last_hash", "mac", "updated_at"])
    return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(*, chunk_size: int = 2000) -> VerifyResult:
    """Walk the whole chain; name the first event that is changed, missing or inserted."""
    key = audit_key()
    expected_seq = 1
    prev = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"事件 #{expected_seq} 缺失（已被删除）")
        if event.prev_hash != prev:
            return VerifyResult(
                False, checked, event.seq, f"事件 #{event.seq} 的前一哈希与链不符（前面的事件被改动或删除）"
            )
        if not hmac.compare_digest(compute_hash(event, key), event.hash):
            return VerifyResult(False, checked, event.seq, f"事件 #{event.seq} 的内容被改动或为手工插入")
        prev = event.hash
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None:
        if last_seq == 0:
            return VerifyResult(True, 0)
        return VerifyResult(False, checked, None, "审计链头缺失")
    if head.last_seq == 0 and last_seq == 0:
        return VerifyResult(True, 0)
    if not hmac.compare_digest(head_mac(head.last_seq, head.last_hash, key), head.mac):
        # Typically the tail was cut and the head rewound: what follows the last intact event is suspect.
        return VerifyResult(
            False, checked, last_seq + 1, f"审计链头被改动（事件 #{last_seq + 1} 起可能被删除）"
        )
    if head.last_seq > last_seq:
        return VerifyResult(False, checked, last_seq + 1, f"事件 #{last_seq + 1} 缺失（链尾被删除）")
    if head.last_seq < last_seq or head.last_hash != prev:
        return VerifyResult(
            False, checked, head.last_seq + 1, f"事件 #{head.last_seq + 1} 为链头之后手工插入"
        )
    return VerifyResult(True, checked)
