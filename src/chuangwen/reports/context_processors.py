"""The navigation's 看板与通报 menu: which of the reports, bulletins and accountability pages to offer."""

from chuangwen.core import access
from chuangwen.core.roles import SCHOOL_ROLES

from . import mock, selectors


def report_nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    own_school = next(
        (g.unit_id for g in access.scope_of(user).grants if g.role in SCHOOL_ROLES),
        None,
    )
    return {
        "report_nav": {
            "city": selectors.can_view_city(user),
            "mock": mock.can_view(user),
            "own_school": own_school,
        }
    }
