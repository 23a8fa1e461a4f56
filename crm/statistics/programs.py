"""The program statistics plug-in: programs registers its provider here.

crm never imports programs; programs/apps.py registers
`program_statistics` through crm/extensions.py and crm's pages ask
`program_statistics_providers()` for it.
"""

from __future__ import annotations

# Plug-in: program statistics (programs registers it in its AppConfig.ready;
# crm never imports programs).

_program_statistics = None


def program_statistics_register(function) -> None:
    """Let the programs app provide `program_statistics` to crm's pages."""
    global _program_statistics
    _program_statistics = function


def program_statistics_providers():
    """Return the registered program statistics function, or None."""
    return _program_statistics
