"""Test settings: fast hasher, immediate tasks, locmem mail, a throw-away data directory."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

_tmp = Path(tempfile.mkdtemp(prefix="chuangwen-test-"))
SECRET_KEY = "test-secret-key-not-for-production-" + "x" * 30
DEBUG = False
CHUANGWEN_DEMO = True
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = _tmp / "media"
STATIC_ROOT = _tmp / "static"
AUDIT_KEY = os.environ.get("CHUANGWEN_AUDIT_KEY") or "test-audit-key"
AUDIT_KEY_FILE = _tmp / "audit.key"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.db"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = True
