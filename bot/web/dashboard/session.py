"""The dashboard's session cookie and CSRF tokens, signed with HELPDESK_SECRET_KEY.

A session is a signed cookie, not a row: ``<payload>.<signature>``, the payload a
base64url JSON object with the workspace, the person, their role, when it expires and
a random nonce. Nothing in it is secret, and nothing in it can be changed without the
key. The CSRF token of a session is an HMAC of its nonce, so it changes with every
sign-in and is worthless without the cookie that goes with it.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_COOKIE = "helpdesk_session"
# Protects the sign-in form itself (double submit): a page elsewhere cannot sign a
# person in with a link of someone else's choosing.
LOGIN_COOKIE = "helpdesk_login"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    """Who is signed in: one person of one workspace, until ``expires`` (Unix time)."""

    workspace_id: int
    person_id: int
    role: str
    expires: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Makes and checks session cookies and CSRF tokens with one secret key. Each use
    gets its own derived key, so a signature made for one can never pass as another."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("the dashboard needs a secret key")
        master = secret_key.encode("utf-8")
        self._session_key = hmac.new(master, b"helpdesk dashboard session", "sha256").digest()
        self._csrf_key = hmac.new(master, b"helpdesk dashboard csrf", "sha256").digest()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._session_key, payload.encode("ascii"), "sha256").digest())

    def issue(self, workspace_id: int, person_id: int, role: str, now: datetime) -> str:
        """A cookie value for a session starting ``now``."""
        body = {"w": workspace_id, "p": person_id, "r": role,
                "e": int((now + SESSION_LIFETIME).timestamp()), "n": secrets.token_urlsafe(16)}
        payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def read(self, cookie: str | None, now: datetime) -> Session | None:
        """The session ``cookie`` holds; None when it is missing, forged, altered or
        expired."""
        if not cookie or len(cookie) > 1000 or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        try:
            if not hmac.compare_digest(self._sign(payload), signature):
                return None
            body = json.loads(_unb64(payload))
            session = Session(int(body["w"]), int(body["p"]), str(body["r"]), int(body["e"]),
                              str(body["n"]))
        except (ValueError, KeyError, TypeError, UnicodeError):
            return None
        return session if session.expires > now.timestamp() else None

    def csrf_token(self, session: Session) -> str:
        """The CSRF token forms of ``session`` carry."""
        return _b64(hmac.new(self._csrf_key, session.nonce.encode("ascii"), "sha256").digest())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Whether ``token`` is ``session``'s CSRF token."""
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token)


def new_login_nonce() -> str:
    """A random value for the sign-in form's double-submit cookie."""
    return secrets.token_urlsafe(16)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two optional strings (both must be present)."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())

