"""How people are named on screen and in mail: 姓 名, the login id as a fallback."""

from __future__ import annotations


def full_name(user) -> str:
    """Return "姓 名" from the user's last and first name ("" when none)."""
    if user is None:
        return ""
    last = (getattr(user, "last_name", "") or "").strip()
    first = (getattr(user, "first_name", "") or "").strip()
    return f"{last} {first}".strip()


def person_name(user) -> str:
    """Return the user's name in Japanese order (姓 名), else their login id.

    Django's `get_full_name()` puts the given name first; Japanese users
    expect the family name (last_name) first. A user without a name is
    shown by their username; no user (a deleted account, an automatic
    action) gives "".
    """
    if user is None:
        return ""
    name = full_name(user)
    if name:
        return name
    get_username = getattr(user, "get_username", None)
    return get_username() if callable(get_username) else str(user)


def name_split(name: str) -> tuple[str, str]:
    """Split "姓 名" (any space, full-width included) into (last_name, first_name)."""
    parts = (name or "").split(maxsplit=1)
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    return parts[0], parts[1].strip()
