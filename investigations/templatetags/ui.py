"""Interface helpers every template may use (a builtin library, see settings.TEMPLATES).

{% icon "entity" %}                  an icon of static/icons.svg, hidden from screen readers
{% icon "search" label="Search" %}   the same, announced with its label
{{ value|num }} / {{ value|num:2 }}  1,200,000 / 119,508.00 (investigations/formatting.py)
{{ value|day }}                      2 Apr 2022 (dates, datetimes, partial ISO dates)
"""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from investigations import formatting

register = template.Library()

SPRITE = "icons.svg"


@register.simple_tag
def icon(name: str, label: str = "", css: str = "") -> str:
    classes = f"icon icon-{name} {css}".strip()
    href = f"{static(SPRITE)}#{name}"
    if label:
        return format_html(
            '<svg class="{}" role="img" aria-label="{}" focusable="false">'
            '<use href="{}"></use></svg>',
            classes,
            label,
            href,
        )
    return format_html(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>',
        classes,
        href,
    )


@register.filter
def num(value, places=None) -> str:
    """Thousands separators, exact for Decimals; places fixes the decimals (money: 2)."""
    if places in (None, ""):
        return formatting.number(value)
    try:
        return formatting.number(value, int(places))
    except (TypeError, ValueError):
        return formatting.number(value)


@register.filter
def day(value) -> str:
    return formatting.date_label(value)
