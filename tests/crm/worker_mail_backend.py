"""An e-mail backend for worker-kill tests: slow, and visible across processes.

Each message takes CRM_TEST_MAIL_DELAY seconds to "send" (the window a
SIGKILL should hit), then is written as one file in CRM_TEST_MAIL_DIR, the
moment the "server" accepted it (tests/crm/test_email_lease.py).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        directory = Path(os.environ["CRM_TEST_MAIL_DIR"])
        delay = float(os.environ.get("CRM_TEST_MAIL_DELAY", "0.3"))
        sent = 0
        for message in email_messages:
            time.sleep(delay)
            name = uuid.uuid4().hex
            temp = directory / f".{name}"
            temp.write_bytes(message.message().as_bytes())
            os.replace(temp, directory / f"{name}.eml")
            sent += 1
        return sent
