"""Template filter `person_name`: `{% load people %}{{ user|person_name }}`."""

from django import template

from support_network.people import person_name as _person_name

register = template.Library()


@register.filter(name="person_name")
def person_name(user) -> str:
    """Return the user's name as 姓 名, their login id when they have none."""
    return _person_name(user)
