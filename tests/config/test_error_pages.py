"""Error pages in Japanese with the site's header and a way back (issue 15 item 7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client, RequestFactory, override_settings

from support_network.errors import PermissionDenied
from support_network.middleware import DomainErrorPageMiddleware
from tests.config.test_settings_checks import run_manage

PROJECT = Path(__file__).resolve().parents[2]


def test_a_mistyped_url_gives_the_japanese_404_page(db):
    response = Client().get("/companeis/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "ページが見つかりません（404）" in html
    assert "ホームへ戻る" in html
    assert "URLconf" not in html  # no technical page listing the URL patterns


def test_the_404_page_carries_the_header_for_a_logged_in_user(staff_a):
    client = Client()
    client.force_login(staff_a.user)

    html = client.get("/no/such/page/").content.decode()

    assert "ページが見つかりません" in html
    assert "企業等の検索" in html  # the site's menu
    assert "ログアウト" in html


def test_the_api_keeps_json_errors(staff_a):
    client = Client()
    client.force_login(staff_a.user)

    response = client.get("/api/v1/no-such-resource/")

    assert response.status_code == 404
    assert response.json() == {"detail": "見つかりません。", "code": "not_found"}


def test_a_refused_rule_on_a_web_page_is_the_japanese_403_page(staff_a):
    request = RequestFactory().get("/cases/1/")
    request.user = staff_a.user
    request.session = {}
    middleware = DomainErrorPageMiddleware(lambda r: None)

    response = middleware.process_exception(
        request,
        PermissionDenied("この案件を変更する権限がありません。", code="not_permitted"),
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert "この操作はできません（403）" in html
    assert "この案件を変更する権限がありません。" in html
    assert "ホームへ戻る" in html
    api = RequestFactory().get("/api/v1/cases/1/")
    assert middleware.process_exception(api, PermissionDenied("x")) is None


def test_a_bad_host_gives_the_japanese_400_page(db):
    response = Client().get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    html = response.content.decode()
    assert "リクエストを処理できません" in html
    assert "ホームへ戻る" in html


@override_settings(ROOT_URLCONF="tests.config.error_urls")
def test_a_server_error_gives_the_japanese_500_page_and_json_in_the_api(db):
    client = Client(raise_request_exception=False)

    page = client.get("/boom/")
    api = client.get("/api/v1/boom/")

    assert page.status_code == 500
    html = page.content.decode()
    assert "エラーが発生しました（500）" in html
    assert 'href="/"' in html
    assert "RuntimeError" not in html
    assert api.status_code == 500
    assert api.json()["code"] == "server_error"


def run_sh_environment() -> dict[str, str]:
    """Return the defaults scripts/run.sh exports (`export NAME="${NAME:-value}"`)."""
    text = (PROJECT / "scripts" / "run.sh").read_text()
    found = re.findall(r'^export (\w+)="\$\{\1:-([^}]*)\}"$', text, flags=re.M)
    return dict(found)


def test_the_embedded_default_shows_the_japanese_404_not_the_technical_page(tmp_path):
    env = run_sh_environment()
    assert env["DJANGO_DEBUG"] == "false"
    code = (
        "import json; from django.conf import settings; from django.test import Client; "
        "r = Client().get('/companeis/', HTTP_HOST='127.0.0.1'); "
        "print(json.dumps({'status': r.status_code, 'html': r.content.decode(), "
        "'values': [settings.DEBUG, settings.SECURE_SSL_REDIRECT, "
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS]}))"
    )

    result = run_manage(tmp_path, env, "shell", "-c", code)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # Plain http on 127.0.0.1: no HTTPS redirect, no HSTS, cookies over http.
    assert answer["values"] == [False, False, False, False, 0]
    assert answer["status"] == 404
    assert "ページが見つかりません" in answer["html"]
    assert "URLconf" not in answer["html"]


@pytest.mark.parametrize("name", ["400.html", "403.html", "404.html", "500.html"])
def test_error_pages_render_without_a_request(name):
    from django.template.loader import render_to_string

    html = render_to_string(name)

    assert "ホームへ戻る" in html
    assert "<script>" not in html


def test_a_form_sent_without_its_csrf_token_gets_the_japanese_403_page(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/password-reset/", {"email": "a@example.jp"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "送信を受け付けられません（403）" in html
    assert "ホームへ戻る" in html
