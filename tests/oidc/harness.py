"""A real OpenID Provider for the tests: node's `oidc-provider` (tests/oidc/provider.mjs).

`OpenIdProvider` installs the package with `npm ci` on first use (into
tests/oidc/node_modules, which git ignores), starts provider.mjs on a free
loopback port and stops it afterwards. Clients, accounts, groups, amr and
acr are configured by the test; accounts can change while it runs (the
provider reads its accounts file on every login).

The provider is reached through `TamperingProxy`, a small HTTP proxy of
this file on its own port; the issuer URL is the proxy's, so the app, the
browser and the tests all go through it. By default it passes everything
on unchanged. A test that needs a forged answer sets `proxy.tamper`, a
function given the token endpoint's JSON answer: the tokens in it still
come from the real provider (a token issued to another client, or a real
ID token with a changed claim whose signature therefore no longer holds).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

HERE = Path(__file__).resolve().parent
CLIENT_ID = "crm-tokyo"
CLIENT_SECRET = "tokyo-client-secret-for-tests"
OTHER_CLIENT_ID = "crm-other"
OTHER_CLIENT_SECRET = "other-client-secret-for-tests"
PASSWORD = "idp-pass-2026"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def npm_install() -> None:
    """Install oidc-provider from package-lock.json once (npm ci)."""
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: the SSO tests need Node.js 20+ and npm")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=HERE,
        check=True,
        timeout=300,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TamperingProxy(ThreadingHTTPServer):
    """Forwards every request to the provider; `tamper` may rewrite the token answer."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.port = self.server_address[1]
        self.target_port: int | None = None
        self.tamper: Callable[[dict], dict] | None = None
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: TamperingProxy

    def log_message(self, *args):  # quiet
        pass

    def _forward(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = f"127.0.0.1:{self.server.port}"
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.target_port, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        tamper = self.server.tamper
        if tamper and urlsplit(self.path).path == "/token" and answer.status == 200:
            data = json.dumps(tamper(json.loads(data))).encode()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_HEAD = _forward


class OpenIdProvider:
    """provider.mjs on loopback, behind a TamperingProxy."""

    def __init__(self, workdir: Path, *, redirect_uris: list[str], post_logout_redirect_uris: list[str]):
        npm_install()
        self.workdir = workdir
        self._redirect_uri = redirect_uris[0]
        self.proxy = TamperingProxy()
        self.issuer = f"http://127.0.0.1:{self.proxy.port}"
        self.accounts_file = workdir / "accounts.json"
        self.accounts: dict[str, dict] = {}
        self._write_accounts()
        port = free_port()
        clients = [
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
            }
            for client_id, secret in (
                (CLIENT_ID, CLIENT_SECRET),
                (OTHER_CLIENT_ID, OTHER_CLIENT_SECRET),
            )
        ]
        config = workdir / "provider.json"
        config.write_text(
            json.dumps(
                {
                    "issuer": self.issuer,
                    "port": port,
                    "clients": clients,
                    "accounts_file": str(self.accounts_file),
                    "kid": "test-key-1",
                }
            )
        )
        self.log = (workdir / "provider.log").open("w")
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs"), str(config)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        ready = self.process.stdout.readline()
        if not ready.startswith("READY"):
            self.stop()
            raise RuntimeError(
                f"oidc-provider did not start: {(workdir / 'provider.log').read_text()}"
            )
        self.proxy.target_port = port

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.proxy.stop()
        self.log.close()

    # --- accounts at the IdP ------------------------------------------------

    def _write_accounts(self) -> None:
        self.accounts_file.write_text(json.dumps(self.accounts))

    def set_account(
        self,
        username: str,
        *,
        groups: list[str],
        email: str | None = None,
        family_name: str = "田中",
        given_name: str = "花子",
        amr: list[str] | None = None,
        acr: str | None = None,
    ) -> None:
        self.accounts[username] = {
            "password": PASSWORD,
            "email": email or f"{username}@tokyo.example.jp",
            "family_name": family_name,
            "given_name": given_name,
            "groups": groups,
            "amr": amr or ["pwd"],
            **({"acr": acr} if acr else {}),
        }
        self._write_accounts()

    def remove_account(self, username: str) -> None:
        self.accounts.pop(username, None)
        self._write_accounts()

    def reset(self) -> None:
        self.accounts = {}
        self._write_accounts()
        self.proxy.tamper = None

    # --- driving the IdP as a browser would -----------------------------------

    def login(self, authorization_url: str, username: str, password: str = PASSWORD) -> str:
        """Sign in at the IdP's login page; return the redirect back to the app (not followed)."""
        browser = requests.Session()
        url = authorization_url
        for _step in range(10):
            answer = browser.get(url, allow_redirects=False, timeout=10)
            if answer.status_code == 200 and "/interaction/" in url:
                answer = browser.post(
                    url + "/login",
                    data={"username": username, "password": password},
                    allow_redirects=False,
                    timeout=10,
                )
                if answer.status_code == 200:
                    raise AssertionError("the IdP refused the login: " + answer.text[:200])
            if answer.status_code not in (302, 303):
                raise AssertionError(f"unexpected IdP answer {answer.status_code}: {answer.text[:300]}")
            url = urljoin(url, answer.headers["location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("too many redirects at the IdP")

    def id_token_for_other_client(self, username: str) -> str:
        """Return a real ID token the provider issued to the *other* client (crm-other)."""
        return self.id_token_for(username, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)

    def id_token_for(self, username: str, client_id: str, client_secret: str) -> str:
        """Return a real ID token of a login of its own (own state and nonce) for client_id."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect_uri = self._redirect_uri
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile groups",
                "state": "other-state",
                "nonce": "other-nonce",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        back = self.login(f"{self.issuer}/auth?{query}", username)
        code = dict(parse_qsl(urlsplit(back).query))["code"]
        answer = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "client_secret": client_secret,
                "code_verifier": verifier,
            },
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()["id_token"]


