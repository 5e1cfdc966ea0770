"""`{% inspection_action round school as act %}`: what the viewer may do at a school of a round (the round
page shows 开始检查 / 继续检查 / 查看结果). Computed once per round and page, not once per school."""

from __future__ import annotations

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def inspection_action(context, round_, school) -> dict:
    key = ("inspection_actions", round_.pk)
    actions = context.render_context.get(key)
    if actions is None:
        user = context["request"].user
        schools = context.get("schools") or [school]
        actions = selectors.round_actions(user, round_, schools)
        context.render_context[key] = actions
    action, inspection = actions.get(school.pk) or selectors.round_actions(
        context["request"].user, round_, [school]
    ).get(school.pk, ("", None))
    return {"action": action, "inspection": inspection}
