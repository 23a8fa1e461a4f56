"""Secure headers on every answer, and templates without inline script.

The Content Security Policy (django-csp) allows scripts and styles only from
the app's own static files, so no template may carry an inline <script>, an
on*= handler or a style= attribute: the browser would refuse them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import engines
from rest_framework.test import APIClient

TEMPLATE_DIRS = [
    Path(d)
    for engine in engines.all()
    for d in getattr(engine, "template_dirs", ())
    if str(settings.BASE_DIR) in str(d) and ".venv" not in str(d)
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
DATA_BLOCK = re.compile(r"type=[\"']application/(ld\+)?json[\"']", re.IGNORECASE)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:]
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def project_templates() -> list[Path]:
    files = sorted({p for d in TEMPLATE_DIRS for p in d.rglob("*.html")})
    assert files, TEMPLATE_DIRS
    return files


@pytest.mark.parametrize("path", project_templates(), ids=lambda p: p.name)
def test_templates_have_no_inline_script_handler_or_style(path):
    text = path.read_text()
    scripts = [m.group(0) for m in INLINE_SCRIPT.finditer(text)]

    assert [s for s in scripts if not DATA_BLOCK.search(s)] == []
    assert not HANDLER.search(text), HANDLER.search(text).group(0)
    assert not STYLE_ATTRIBUTE.search(text)


def test_pages_carry_a_policy_without_inline_script_or_eval(client, db):
    response = client.get("/login/")

    policy = csp_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_pages_and_api_answers_carry_the_other_secure_headers(client, db):
    for response in (client.get("/login/"), APIClient().get("/api/v1/prefectures/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "Content-Security-Policy" in response


def test_session_cookie_is_http_only_and_same_site(client, staff_a):
    client.post(
        "/login/", {"username": staff_a.user.username, "password": "pass-1234-word"}
    )

    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_api_docs_load_their_script_from_the_app_under_the_policy(client, db):
    page = client.get("/api/docs/")

    html = page.content.decode()
    assert INLINE_SCRIPT.search(html) is None
    script_url = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', html).group(1)
    policy = csp_of(page)
    assert policy["script-src"] == ["'self'"]
    # The page's one fixed <style> block is allowed by its hash, nothing more.
    assert [s for s in policy["style-src"] if s != "'self'"] != []
    assert all(s.startswith("'sha256-") for s in policy["style-src"][1:])
    assert "data:" in policy["img-src"]

    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "SwaggerUIBundle" in script.content.decode()
