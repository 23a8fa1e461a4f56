"""The Celery application: `celery -A config worker` / `celery -A config beat`.

Logs: with DJANGO_LOG_FORMAT=json the worker and beat log through Django's
`settings.LOGGING` (one JSON object per line, config/log.py) instead of
Celery's own plain-text set-up; otherwise Celery configures them as it always
has. Beat prints its start-up banner before any hook runs: start it with
`celery -A config --quiet beat` when only JSON lines may reach the collector.
"""

import logging
import logging.config
import os

from celery import Celery, current_task, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _add_task_fields(record: logging.LogRecord) -> bool:
    """Tag a record logged while a task runs with the task's id and name.

    What Celery's plain TaskFormatter prints as `[name(id)]`; JsonFormatter
    writes the attributes as fields.
    """
    if current_task:
        record.task_id = current_task.request.id
        record.task_name = current_task.name
    return True


def _setup_json_logging(loglevel=None, **kwargs) -> None:
    """`setup_logging` receiver: Django's LOGGING instead of Celery's handlers.

    A receiver on this signal stops Celery from configuring logging (and from
    hijacking the root logger), so this does what Celery would otherwise do:
    the root level from `--loglevel`, print()/stdout of tasks into the log
    (`worker_redirect_stdouts`, logger `celery.redirected`).
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    root = logging.getLogger()
    if loglevel:
        root.setLevel(loglevel)
    for handler in root.handlers:
        handler.addFilter(_add_task_fields)
    if app.conf.worker_redirect_stdouts:
        app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)


def _banner_as_log(sender=None, instance=None, **kwargs) -> None:
    """`celeryd_after_setup` receiver: the worker's banner as one log record.

    The banner is ~20 lines printed straight to stdout; in JSON mode its
    content (transport, concurrency, queues, tasks) is logged once instead.
    `--quiet` still silences it.
    """
    if instance is None or instance.quiet:
        return
    info = instance.startup_info(artlines=False) + (instance.extra_info() or "")
    logging.getLogger("celery.apps.worker").info("%s", info.strip())
    instance.quiet = True


if os.environ.get("DJANGO_LOG_FORMAT", "plain") == "json":
    signals.setup_logging.connect(_setup_json_logging, weak=False)
    signals.celeryd_after_setup.connect(_banner_as_log, weak=False)
