"""Embedded default: one machine, SQLite and local files in the data directory, demo data allowed."""

import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR, env_bool

DEBUG = env_bool("DEBUG", False)
CHUANGWEN_DEMO = env_bool("CHUANGWEN_DEMO", True)


def _secret_key() -> str:
    import os

    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = DATA_DIR / "secret.key"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
