# The CRM image: web (gunicorn), Celery worker and beat all run from it
# (docker-compose.yml). Python 3.11 on Debian 12, as on the developers' machines.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CRM_VAR_DIR=/app/var \
    CRM_EXPORT_DIR=/app/var/exports
WORKDIR /app

# Dependencies first (a code change does not reinstall them).
COPY pyproject.toml README.md ./
COPY config ./config
COPY support_network ./support_network
COPY crm ./crm
COPY programs ./programs
COPY seeds ./seeds
RUN pip install --no-cache-dir .

COPY templates ./templates
COPY static ./static
COPY manage.py ./

# Static files are served by the app itself (WhiteNoise): collect them into
# the image. Runs as a non-root user; var/exports is the volume shared by web
# (downloads) and worker (builds).
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin crm \
    && mkdir -p /app/var/exports /app/var/mail \
    && chown -R crm /app/var
USER crm

EXPOSE 8000
# Health checks live in docker-compose.yml (web only: worker and beat share
# this image but serve no HTTP). config/gunicorn.conf.py: bind 0.0.0.0:$PORT
# (8000), $WEB_CONCURRENCY (5) workers, JSON logs with DJANGO_LOG_FORMAT=json.
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
