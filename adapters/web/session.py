"""Who is chatting on the web page, and that a request really comes from it.

A shopper is a random id in a cookie signed with the server's secret (itsdangerous, as Flask's sessions are): the
browser cannot change it, and a worker that shares the secret reads it. Because the browser sends that cookie by
itself, a request that relies on it must also prove it comes from our own page (CSRF):
- the page carries a token derived from the session (an HMAC under a second salt) and sends it back in the
  `X-CSRF-Token` header, which another site's form or script cannot read or set;
- a browser's own `Sec-Fetch-Site` / `Origin` headers must say the request is same-origin (the check Go's
  `http.CrossOriginProtection` makes), and the cookie is `SameSite=Strict`.
A request without a (valid) cookie has no ambient identity to abuse: it gets a new session, whose token comes back in
the `X-CSRF-Token` response header so an API client can go on.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from itsdangerous import BadSignature, Signer, URLSafeSerializer

log = logging.getLogger(__name__)

COOKIE = "recbot_session"
CSRF_HEADER = "X-CSRF-Token"
SECRET_ENV = "WEB_COOKIE_SECRET"
ONE_YEAR = 365 * 24 * 3600


def load_secret(storage: Path, env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """WEB_COOKIE_SECRET (the same on every worker), else one kept beside the data in `storage` (owner-only, as
    Jupyter keeps its cookie secret), so sessions outlive a restart."""
    if value := env.get(SECRET_ENV, "").strip():
        return value
    path = storage / "web_cookie_secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    storage.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(value)
    log.info("web: made a cookie secret in %s (set %s to share one between workers)", path, SECRET_ENV)
    return value


@dataclass(frozen=True)
class Session:
    user_id: str
    new: bool  # made for this request: the response sets the cookie


class Sessions:
    def __init__(self, secret: str, secure: bool = False) -> None:
        self._cookie = URLSafeSerializer(secret, salt="recbot-web-session")
        self._csrf = Signer(secret, salt="recbot-web-csrf")
        self.secure = secure

    def read(self, request: web.Request) -> Session | None:
        """The shopper the request's cookie names; None without one, or for a cookie this server did not sign."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._cookie.loads(raw)
        except BadSignature:
            log.info("web: a session cookie with a bad signature from %s; starting a new session", request.remote)
            return None
        user = data.get("u") if isinstance(data, dict) else None
        return Session(user, new=False) if isinstance(user, str) and user else None

    def open(self, request: web.Request) -> Session:
        return self.read(request) or Session("web-" + secrets.token_urlsafe(12), new=True)

    def token(self, user_id: str) -> str:
        return self._csrf.get_signature(user_id).decode("ascii")

    def token_matches(self, request: web.Request, user_id: str) -> bool:
        sent = request.headers.get(CSRF_HEADER, "")
        return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), self.token(user_id).encode("ascii"))

    def remember(self, response: web.StreamResponse, session: Session) -> None:
        """Set the cookie (and hand out the token) for a session made by this request."""
        if not session.new:
            return
        response.set_cookie(
            COOKIE,
            self._cookie.dumps({"u": session.user_id}),
            max_age=ONE_YEAR,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )
        response.headers[CSRF_HEADER] = self.token(session.user_id)


def cross_origin(request: web.Request) -> bool:
    """A browser's request from another site: `Sec-Fetch-Site` says so (every current browser sends it), or, from an
    older one, an `Origin` whose host is not ours. Requests with neither header come from no browser: not CSRF."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in {"same-origin", "none"}
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":
        return True
    return urlsplit(origin).netloc.lower() != request.host.lower()
