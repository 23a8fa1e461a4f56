"""An in-process e-mail backend whose mail server refuses the first N messages.

`FAILURES` attempts raise SMTPServerDisconnected (a transient error the
e-mail tasks retry); later ones go to mail.outbox like the locmem backend.
Tests set `EmailBackend.failures_left` and read `EmailBackend.attempts`.
"""

from __future__ import annotations

import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class EmailBackend(LocmemBackend):
    failures_left = 0
    attempts = 0

    def send_messages(self, messages):
        for _message in messages:
            type(self).attempts += 1
            if type(self).failures_left > 0:
                type(self).failures_left -= 1
                raise smtplib.SMTPServerDisconnected("connection lost (test)")
        return super().send_messages(messages)
