"""Production: PostgreSQL, Redis, object storage, behind TLS. SECRET_KEY and the audit key are mandatory."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import AUDIT_KEY, env_bool, env_int

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "生产环境必须设置 SECRET_KEY（至少 50 个字符）/ SECRET_KEY (≥ 50 chars) is required"
    )
if not AUDIT_KEY:
    raise ImproperlyConfigured(
        "生产环境必须设置 CHUANGWEN_AUDIT_KEY / CHUANGWEN_AUDIT_KEY is required in production"
    )

DEBUG = False
CHUANGWEN_DEMO = env_bool("CHUANGWEN_DEMO", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
