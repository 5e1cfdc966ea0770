"""How one outbox message goes out through each kind of channel.

Each sender returns the HTTP status code (or None) on success and raises DeliveryError on failure. Errors
name what went wrong but never the webhook URL, its key or the secret. Requests have a timeout
(NOTIFY_HTTP_TIMEOUT, default 5 s) and do not follow redirects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection, send_mail

from .models import ChannelConfig, ChannelKind, Outbox

MAX_RESPONSE_BYTES = 64 * 1024
SIGNATURE_HEADER = "X-Chuangwen-Signature"
TIMESTAMP_HEADER = "X-Chuangwen-Timestamp"
DELIVERY_HEADER = "X-Chuangwen-Delivery"


class DeliveryError(Exception):
    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


@dataclass
class Response:
    status: int
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_timeout() -> float:
    return float(getattr(settings, "NOTIFY_HTTP_TIMEOUT", 5))


def _check_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url or "")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise DeliveryError("地址无效：只支持 http(s) 地址")
    return url


def http_request(url: str, *, method: str = "POST", data: bytes | None = None, headers=None) -> Response:
    """One request; a non-2xx answer, a timeout or a refused connection raise DeliveryError."""
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        _check_url(url),
        data=data,
        method=method,
        headers={"User-Agent": "chuangwen-notify", **(headers or {})},
    )
    try:
        with _opener.open(request, timeout=http_timeout()) as answer:
            return Response(answer.status, answer.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", exc.code) from None
    except TimeoutError:
        raise DeliveryError(f"超时（{http_timeout():g} 秒）") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise DeliveryError(f"超时（{http_timeout():g} 秒）") from None
        raise DeliveryError(f"连接失败：{type(reason).__name__}") from None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"连接失败：{type(exc).__name__}") from None


def _post_json(url: str, payload: dict, headers=None) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return http_request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})


def _errcode(response: Response) -> None:
    """WeCom and DingTalk answer 200 with {"errcode": n}: anything but 0 is a failure."""
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        raise DeliveryError("回应不是 JSON", response.status) from None
    code = data.get("errcode", 0) if isinstance(data, dict) else 0
    if code != 0:
        msg = str(data.get("errmsg", ""))[:200]
        raise DeliveryError(f"errcode {code}: {msg}", response.status)


def _text(payload: dict) -> str:
    lines = [payload.get("title", "")]
    if payload.get("body"):
        lines.append(payload["body"])
    if payload.get("url"):
        lines.append(payload["url"])
    return "\n".join(lines)


def _markdown(payload: dict) -> str:
    text = f"### {payload.get('title', '')}\n{payload.get('body', '')}"
    if payload.get("url"):
        text += f"\n[查看详情]({payload['url']})"
    return text


def send_email(message: Outbox, config: ChannelConfig) -> int | None:
    recipients = [a for a in message.target.split(",") if a]
    if not recipients:
        raise DeliveryError("没有收件人")
    try:
        connection = get_connection(timeout=http_timeout())
        send_mail(
            message.payload.get("title", ""), _text(message.payload), None, recipients, connection=connection
        )
    except Exception as exc:  # SMTP and socket errors alike
        raise DeliveryError(f"邮件发送失败：{type(exc).__name__}") from None
    return None


def send_wecom(message: Outbox, config: ChannelConfig) -> int | None:
    if config.settings.get("msgtype") == "text":
        payload = {"msgtype": "text", "text": {"content": _text(message.payload)}}
    else:
        payload = {"msgtype": "markdown", "markdown": {"content": _markdown(message.payload)}}
    response = _post_json(config.settings.get("url", ""), payload)
    _errcode(response)
    return response.status


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def send_dingtalk(message: Outbox, config: ChannelConfig) -> int | None:
    url = config.settings.get("url", "")
    if config.secret:
        timestamp = int(time.time() * 1000)
        url += (
            "&" if "?" in url else "?"
        ) + f"timestamp={timestamp}&sign={dingtalk_sign(config.secret, timestamp)}"
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": message.payload.get("title", ""), "text": _markdown(message.payload)},
    }
    response = _post_json(url, payload)
    _errcode(response)
    return response.status


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(message: Outbox, config: ChannelConfig) -> int | None:
    body = json.dumps(
        {"id": message.pk, **message.payload}, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode()
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(int(time.time())),
        DELIVERY_HEADER: message.dedupe_key,
    }
    if config.secret:
        headers[SIGNATURE_HEADER] = webhook_signature(config.secret, body)
    return http_request(config.settings.get("url", ""), data=body, headers=headers).status


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def render_template(template: str, values: dict[str, str]) -> str:
    """Replace {name} with known values only; unknown names stay as written (no format-string tricks)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def send_sms(message: Outbox, config: ChannelConfig) -> int | None:
    values = {
        "phone": message.target,
        "title": message.payload.get("title", ""),
        "body": message.payload.get("body", ""),
        "text": _text(message.payload),
        "secret": config.secret,
        "timestamp": str(int(time.time())),
    }
    params = {k: render_template(str(v), values) for k, v in (config.settings.get("params") or {}).items()}
    url = config.settings.get("url", "")
    method = str(config.settings.get("method", "POST")).upper()
    if method == "GET":
        query = urllib.parse.urlencode(params)
        response = http_request(url + ("&" if "?" in url else "?") + query, method="GET")
    elif config.settings.get("json"):
        response = _post_json(url, params)
    else:
        response = http_request(
            url,
            data=urllib.parse.urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
    expected = config.settings.get("success_contains") or ""
    if expected and expected.encode() not in response.body:
        raise DeliveryError("网关未确认发送", response.status)
    return response.status


SENDERS = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.WECOM: send_wecom,
    ChannelKind.DINGTALK: send_dingtalk,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.SMS: send_sms,
}


def send(message: Outbox) -> int | None:
    config = message.config
    if config is None:
        raise DeliveryError("渠道配置已删除")
    if not config.enabled:
        raise DeliveryError("渠道已停用")
    return SENDERS[ChannelKind(message.channel)](message, config)
