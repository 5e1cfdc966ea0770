from django.utils.functional import SimpleLazyObject

from . import selectors


def unread(request):
    """`notify_unread` for the navbar bell: one indexed COUNT, run only if a template shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notify_unread": 0}
    return {"notify_unread": SimpleLazyObject(lambda: selectors.unread_count(user))}
