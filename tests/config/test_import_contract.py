"""The import contract of the layers (STYLE.md §1), checked on the source tree.

Dependencies point one way, programs → crm → support_network, and the layers
that hold the domain (rules, selectors, services, statistics, exports) never
reach up into the HTTP layers: they import neither DRF nor django.http nor a
views/web module, so the API, the web UI, commands and tasks can all use them.
crm/rules is pure Python and imports no Django at all. The test reads the
source with `ast` (every import, also inside functions), so nothing is
imported and a violation is reported with its file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Module trees that hold the domain: reads, writes, statistics, exports, rules.
DOMAIN_GLOBS = (
    "crm/selectors/**/*.py",
    "crm/selectors.py",
    "crm/services/**/*.py",
    "crm/services.py",
    "crm/statistics/**/*.py",
    "crm/statistics.py",
    "crm/exports/**/*.py",
    "crm/rules/**/*.py",
    "crm/rules.py",
    "programs/services*.py",
    "programs/services/**/*.py",
    "programs/selectors*.py",
    "programs/selectors/**/*.py",
)
# HTTP layers: DRF, django.http, and the API and HTML view modules of the apps
# (crm/views/, crm/web/ and their older spellings crm/web_*.py, programs/views_*.py).
HTTP_LAYER = re.compile(
    r"^(rest_framework|django\.http|(crm|programs)\.(views|web)(_\w+)?)(\.|$)"
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Return (line, dotted name) of every import in the file.

    `from a import b` yields both "a" and "a.b", since b may be a module.
    Relative imports are resolved against the file's package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _files(*patterns: str) -> list[Path]:
    files = {p for pattern in patterns for p in ROOT.glob(pattern)}
    return sorted(p for p in files if "migrations" not in p.parts)


def _violations(files: list[Path], forbidden) -> list[str]:
    return sorted(
        {
            f"{path.relative_to(ROOT)}:{line} imports {name}"
            for path in files
            for line, name in _imports(path)
            if forbidden(name)
        }
    )


def _under(prefix: str):
    return lambda name: name == prefix or name.startswith(prefix + ".")


def test_domain_layers_import_no_http_layer():
    files = _files(*DOMAIN_GLOBS)
    assert any("crm/selectors" in str(p) for p in files)  # the globs still match
    assert _violations(files, HTTP_LAYER.match) == []


def test_rules_are_free_of_django():
    files = _files("crm/rules/**/*.py", "crm/rules.py")
    assert files
    assert _violations(files, _under("django")) == []


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("crm", ("programs",)),
        ("support_network", ("programs", "crm")),
    ],
)
def test_dependencies_point_one_way(app, forbidden):
    """programs → crm → support_network: never the other way round."""
    files = _files(f"{app}/**/*.py")
    assert files
    assert (
        _violations(files, lambda name: any(_under(f)(name) for f in forbidden)) == []
    )
