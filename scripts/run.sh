#!/usr/bin/env bash
# Run the CRM on this machine: install, migrate, seed, load demo data, then
# serve the web UI with one Celery worker and one beat.
#
# With no environment set this is the embedded stack (SQLite and a
# filesystem broker under var/); DATABASE_URL, REDIS_URL and the other
# variables of API.md "Configuration" are respected as they are.
#
#   scripts/run.sh            # http://127.0.0.1:8000/
#   PORT=8765 scripts/run.sh
#
# Ctrl-C (or SIGTERM to this script) stops the server, the worker and beat.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT="${PORT:-8000}"
export PORT
# Links in notification e-mails point where this server listens.
export CRM_SITE_URL="${CRM_SITE_URL:-http://127.0.0.1:$PORT}"
# DEBUG off, so that a mistyped URL shows the Japanese 404 page (and an error
# the Japanese 500 page), never Django's technical pages listing every URL
# pattern or settings. This is plain http on 127.0.0.1, so the HTTPS switches
# that DEBUG off would turn on stay off (README "Security settings"). Each
# variable set in the environment wins.
export DJANGO_DEBUG="${DJANGO_DEBUG:-false}"
export DJANGO_SECURE_SSL_REDIRECT="${DJANGO_SECURE_SSL_REDIRECT:-false}"
export DJANGO_SECURE_COOKIES="${DJANGO_SECURE_COOKIES:-false}"
export DJANGO_SECURE_HSTS_SECONDS="${DJANGO_SECURE_HSTS_SECONDS:-0}"
export DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="${DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS:-false}"
export DJANGO_SECURE_HSTS_PRELOAD="${DJANGO_SECURE_HSTS_PRELOAD:-false}"
VENV=.venv
PY="$VENV/bin/python"
VAR_DIR="${CRM_VAR_DIR:-var}"
LOG_DIR="$VAR_DIR/log"

# --- Install ---------------------------------------------------------------
if [ ! -x "$PY" ]; then
  echo "==> 仮想環境を作成しています ($VENV)"
  # pyproject.toml pins Python 3.11; prefer it when several are installed.
  "$(command -v python3.11 || command -v python3)" -m venv "$VENV"
fi
STAMP="$VENV/.installed"
if [ ! -e "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "==> 依存パッケージをインストールしています"
  "$VENV/bin/pip" install -q -e ".[dev]"
  touch "$STAMP"
fi

# --- Database and data ---------------------------------------------------------
echo "==> データベースを更新しています"
"$PY" manage.py migrate --noinput
"$PY" manage.py seed_network
# Loads once; later starts only print the demo logins again.
demo_output="$("$PY" manage.py load_demo_data)"
printf '%s\n' "$demo_output"
"$PY" manage.py collectstatic --noinput -v0

# --- Background processes --------------------------------------------------------
mkdir -p "$LOG_DIR"
pids=()

stop_all() {
  local status=$?
  trap - EXIT INT TERM
  echo
  echo "==> 停止しています"
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  # The worker finishes its current task first (warm shutdown); give it and
  # beat up to 20 s, then force them so nothing is left running.
  local _i alive
  for _i in $(seq 1 40); do
    alive=0
    for pid in ${pids[@]+"${pids[@]}"}; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" -eq 0 ] && break
    sleep 0.5
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null || true # prefork pool children
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> Celery worker と beat を起動しています (ログ: $LOG_DIR/)"
# One prefork child: time limits and acks_late need the prefork pool.
"$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=1 \
  >>"$LOG_DIR/worker.log" 2>&1 &
pids+=($!)
# Exactly one beat per deployment; the schedule lives in the database
# (django_celery_beat, CELERY_BEAT_SCHEDULER in config/settings.py).
"$VENV/bin/celery" -A config beat --loglevel=INFO \
  --pidfile="$VAR_DIR/celerybeat.pid" >>"$LOG_DIR/beat.log" 2>&1 &
pids+=($!)

# --- Web server ----------------------------------------------------------------
# runserver runs in the background and the script waits for it: bash runs a
# trap only between commands, so a foreground server would delay SIGTERM
# handling until it exited by itself. Its output still comes here.
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload &
server_pid=$!
pids+=("$server_pid")

cat <<EOF

==============================================================
  知財経営支援 CRM: http://127.0.0.1:$PORT/
  API: http://127.0.0.1:$PORT/api/docs/   管理画面: http://127.0.0.1:$PORT/admin/
==============================================================
$(printf '%s\n' "$demo_output" | sed -n '/^デモ用ログイン/,$p')

  停止するには Ctrl-C を押してください。

EOF

wait "$server_pid"
