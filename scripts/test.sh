#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Needs PostgreSQL and Redis on 127.0.0.1 (see README "Tests").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  touch .venv/.installed
fi

.venv/bin/ruff check .
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run
exec .venv/bin/python -m pytest "$@"
