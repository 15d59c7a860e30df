"""Template side of investigations/access.py (a builtin tag library), and activity values.

The filter reads the role already loaded with the case, so templates never trigger queries.
"""

from django import template

from investigations import access

register = template.Library()


@register.simple_tag(takes_context=True)
def can_do(context, action: str, investigation) -> bool:
    return access.can(context["request"].user, action, investigation)


@register.filter(name="role_allows")
def role_allows(role: str | None, action: str) -> bool:
    """{% if case.user_role|role_allows:"manage" %}: the role access.py loaded with the case.

    That is the role of the user the case was loaded for (views load it for request.user);
    ask access.can() about anyone else.
    """
    return role is not None and access.Action(action) in access.ROLE_ACTIONS[role]


@register.filter(name="change_value")
def change_value(value) -> str:
    """An activity-log value for people: lists joined, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)
