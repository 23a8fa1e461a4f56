"""`--now` of the commands that replay a moment (send_reminders, send_digest,
send_monthly_report): one argument, one reading (calendar.moment_parse)."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone

from support_network.calendar import moment_parse


def now_argument_add(parser) -> None:
    """Add the `--now` option to a command's parser."""
    parser.add_argument(
        "--now",
        help="この時刻として処理します（ISO 8601、オフセット省略時は日本時間）。",
    )


def now_option(value: str | None) -> datetime:
    """Return the moment `--now` names, or now; a bad value is a CommandError.

    The error carries moment_parse's Japanese message.
    """
    try:
        moment = moment_parse(value)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return moment or timezone.now()
