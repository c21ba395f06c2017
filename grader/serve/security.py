"""What keeps the review app to the person who started it.

The app holds grades and student work and can change marks, so: a random token (as
Jupyter prints) must come with every request, in the URL once and then in an HttpOnly
cookie; each form carries a CSRF value derived from the browser's session cookie, so a
page elsewhere cannot post marks through a logged-in browser; and every response says
which content may run (no script at all: the pages need none, and student text that
slipped through escaping still could not execute).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

TOKEN_COOKIE = "dlgrader_token"
SESSION_COOKIE = "dlgrader_session"
CSRF_FIELD = "csrf"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # the token is in URLs: never send it on
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cache-control", b"no-store"),
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_value(secret: str, session: str) -> str:
    """The hidden form value for this browser's session: useless to another page,
    which can neither read the session cookie nor this value."""
    return hmac.new(secret.encode(), session.encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: str, session: str | None, given: str | None) -> bool:
    if not session or not given:
        return False
    return hmac.compare_digest(csrf_value(secret, session), given)


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie is no token
                continue
    return {key: morsel.value for key, morsel in jar.items()}


class TokenGate:
    """ASGI middleware: 403 without the token; the security headers on every answer.

    A valid ``?token=`` sets the token cookie (and a session cookie for CSRF), so links
    and forms inside the app need not carry it.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [None])[0]
        from_query = given is not None and hmac.compare_digest(given, self.token)
        from_cookie = hmac.compare_digest(cookies.get(TOKEN_COOKIE, ""), self.token)
        extra: list[tuple[bytes, bytes]] = list(HEADERS)
        if not (from_query or from_cookie):
            await _refuse(send, extra)
            return
        session = cookies.get(SESSION_COOKIE)
        if from_query and not from_cookie:
            extra.append((b"set-cookie", _cookie(TOKEN_COOKIE, self.token)))
        if not session:
            session = secrets.token_urlsafe(18)
            extra.append((b"set-cookie", _cookie(SESSION_COOKIE, session)))
        scope.setdefault("state", {})["session"] = session

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(name: str, value: str) -> bytes:
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict".encode()


async def _refuse(send: Callable, headers: list[tuple[bytes, bytes]]) -> None:
    body = b"403: this page needs the token that grader serve printed (open its URL)\n"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
