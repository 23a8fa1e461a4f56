"""The public surface stays put while the code behind it moves.

Other agencies integrate through the API, the URLs, the management commands
and the Celery task names (API.md); the beat entries name tasks the
database scheduler stores. A move of code (issue 18, the layout) must leave
every one of them identical. Each is compared with a snapshot committed in
`tests/config/snapshots/`; after a deliberate change of the interface, write
the new snapshot with `CRM_SNAPSHOT_UPDATE=1 pytest tests/config/
test_public_surface.py` and review its diff like code.
"""

import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from config.celery import app as celery_app

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _compare(name: str, current) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("CRM_SNAPSHOT_UPDATE") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: write it with CRM_SNAPSHOT_UPDATE=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(text) == expected, f"{name} changed (see {path})"


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield [route, name]


def test_every_url_keeps_its_path_and_name():
    urls = sorted(_walk(get_resolver().url_patterns))

    _compare("urls", urls)


def test_the_openapi_schema_is_unchanged():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    _compare("openapi", json.loads(json.dumps(schema, default=str)))


def test_celery_task_names_are_unchanged():
    celery_app.loader.import_default_modules()
    names = sorted(name for name in celery_app.tasks if not name.startswith("celery."))

    _compare("celery_tasks", names)


def test_beat_entries_are_unchanged():
    beat = {
        name: {"task": entry["task"], "schedule": str(entry["schedule"])}
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }

    _compare("beat", beat)


def test_management_commands_are_unchanged():
    ours = {
        name: app
        for name, app in get_commands().items()
        if app in {"crm", "programs", "support_network", "seeds"}
    }

    _compare("management_commands", sorted(ours))


@pytest.mark.parametrize("name", ["urls", "openapi", "celery_tasks", "beat"])
def test_each_snapshot_is_committed_and_not_empty(name):
    path = SNAPSHOTS / f"{name}.json"

    assert path.exists()
    assert json.loads(path.read_text(encoding="utf-8"))
