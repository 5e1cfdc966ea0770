"""The vocabulary of the permission matrix, shared by `tests/test_permission_matrix.py` and the
per-app route tables (`chuangwen/<app>/tests/routes.py`, each defining `ROUTES: dict[str, Route]`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chuangwen.core.roles import Role

ROLES = [r.value for r in Role]
ANON = "anonymous"
ALL = "all"
BUREAU_READ = {Role.ADMIN, Role.LEADER, Role.OFFICE}
UNIT_MANAGERS = {Role.ADMIN, Role.OFFICE}
CLASS_MANAGERS = {Role.ADMIN, Role.OFFICE, Role.SCHOOL_HEAD, Role.LIAISON}
IMPORTERS = CLASS_MANAGERS


@dataclass
class Route:
    """One URL pattern's row: how to call it and which status each role gets.

    `url` and `data` take (city, user): the `city` fixture of conftest.py and the user making the call (the
    system administrator stands in for anonymous). School roles hold their posts on city.school_a.
    """

    url: Callable  # (city, user) -> str
    allowed: set | str  # roles that get `ok`; "all" for every logged-in role
    method: str = "get"
    ok: int = 200
    denied: int = 403
    anon: int = 302  # pages redirect to the login page
    data: Callable | None = None  # (city, user) -> dict for POSTs
    extra: dict = field(default_factory=dict)  # role -> status overriding the above
