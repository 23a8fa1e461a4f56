#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Needs PostgreSQL and Redis on 127.0.0.1 (see README "Tests").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall when pyproject.toml's content differs from the last install's
# (a hash, not mtimes: a checkout or copy can leave an edited file older
# than the stamp).
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f .venv/.installed ] || [ "$(cat .venv/.installed)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  echo "$want" > .venv/.installed
fi

# The browser tests (tests/browser) drive Debian's Chromium through
# Playwright; Playwright never downloads a browser of its own here. Japanese
# text needs a CJK font, or every glyph renders as a box in the screenshots.
if [ ! -x /usr/bin/chromium ] || [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "scripts/test.sh: the browser tests need Debian's chromium and fonts-noto-cjk;" \
      "run as root or install sudo (apt-get install chromium fonts-noto-cjk)." >&2
    exit 1
  fi
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

# The SSO tests run a real OpenID Provider (node oidc-provider, tests/oidc/);
# their fixture installs it with `npm ci` from tests/oidc/package-lock.json.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "scripts/test.sh: the SSO tests need Node.js 20+ and npm (apt-get install nodejs npm)." >&2
    exit 1
  fi
fi
(cd tests/oidc && [ -d node_modules/oidc-provider ] || npm ci --no-audit --no-fund --loglevel=error)

.venv/bin/ruff check .
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run
exec .venv/bin/python -m pytest "$@"
