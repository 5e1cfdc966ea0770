"""Files written inside a transaction are deleted again if that transaction rolls back (decision 0023).

Django has no on-rollback hook, but it keeps each transaction's `on_commit` callbacks together with the
savepoints they belong to, and drops them — without running them — when the transaction rolls back, to
a savepoint or in whole, or its connection closes mid-transaction. So the files ride on a callback:
`delete_on_rollback(names)` registers a `_Kept` marker with `transaction.on_commit`; on commit Django
runs it (the files stay); when Django drops it unrun, its `weakref.finalize` deletes them. CPython frees
the marker the moment Django lets go of it, so the files are gone by the time `atomic` re-raises.

One guard: Django also drops the callbacks still queued after a commit when an earlier callback raises
(a cache or task queue being down). The connection is then out of any transaction, whereas during a
rollback it is still inside one (in an atomic block, or autocommit still off); so a marker dropped
outside a transaction leaves its files alone and logs them (an orphan at worst, never a row whose file is
gone).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction

logger = logging.getLogger(__name__)


class _Kept:
    """An on-commit callback; having been run means the transaction committed and the files stay."""

    __slots__ = ("__weakref__", "state")

    def __init__(self, state: dict) -> None:
        self.state = state

    def __call__(self) -> None:
        self.state["committed"] = True


def _in_transaction(connection) -> bool:
    return connection.in_atomic_block or not connection.autocommit


def _dropped(state: dict, names: tuple[str, ...], connection, storage) -> None:
    if state["committed"]:
        return
    if not _in_transaction(connection):
        logger.warning("on-commit callbacks were dropped after a commit; keeping %s", ", ".join(names))
        return
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # a finaliser must not raise; the name is logged for a later sweep
            logger.exception("could not delete %s after a rollback", name)


def delete_on_rollback(names: Iterable[str], *, storage=None, using: str | None = None) -> None:
    """Delete these stored files if the current transaction rolls back; nothing outside a transaction."""
    names = tuple(names)
    connection = transaction.get_connection(using)
    if not names or not connection.in_atomic_block:
        return  # autocommit: what was written is committed already
    state = {"committed": False}
    marker = _Kept(state)
    finalizer = weakref.finalize(marker, _dropped, state, names, connection, storage or default_storage)
    finalizer.atexit = False  # a process exiting mid-transaction leaves orphans, not a surprise at exit
    transaction.on_commit(marker, using=using)
