"""The browser fixtures of tests/browser, for the pages checked under the CSP.

A package of its own: the `chromium` fixture is package-scoped and keeps
Playwright's event loop running while it is open (see tests/browser/conftest.py).
"""

from tests.browser.conftest import chromium, log_in, page, shot  # noqa: F401
