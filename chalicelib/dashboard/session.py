"""Dashboard sessions: stateless, signed, expiring cookies bound to the site's secret.

A session cookie is `s1.<payload>.<mac>`: payload = base64url of compact JSON
{k: signing-key id, s: site key, i: random session id, t: issued at (unix ms),
e: expiry (unix s), b: binding}; mac = base64url HMAC-SHA-256 of `s1.<payload>`.
The MAC key is derived from the deployment's proof-of-work signing keys with a
label of its own, so no new secret is needed and a job MAC can never pass for a
session MAC (or the reverse).

A session holds on a request only if, besides its MAC and expiry:
  - `b` equals a short HMAC of the site's current secret hash: rotating the
    secret ends every session signed in with the old one;
  - `t` is after the site's `sessions_after`: signing out moves that cutoff to
    now, ending every session of the site issued until then (a stateless
    session cannot be revoked alone without a per-session read; one cutoff on
    the site record, which every request reads anyway, costs nothing more).
State-changing requests also carry a CSRF token: an HMAC of the session id, so
it is bound to the session and useless without the HttpOnly cookie.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from chalicelib import b64url, pow, sites
from chalicelib.sites import SiteInfo

COOKIE_NAME = "workproof_dashboard"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
_VERSION = "s1"
_KEY_LABEL = b"workproof dashboard session v1"
_BINDING_BYTES = 16
_MAX_COOKIE_CHARS = 1024


class DashboardError(Exception):
    """A dashboard refusal: `code` on the wire, `rest_status` when REST statuses are on."""

    code = "internal_error"
    rest_status = 500


class SignedOut(DashboardError):
    code, rest_status = "signed_out", 401


class InvalidCsrf(DashboardError):
    code, rest_status = "invalid_csrf", 403


@dataclass(frozen=True)
class Session:
    kid: str
    site_key: str
    sid: str
    issued_ms: int
    expires: int
    binding: str




def _typed(fields: dict[str, object]) -> bool:
    """The fields `issue` writes, of the types it writes them (a valid MAC
    over other fields is no session either)."""
    return (all(isinstance(fields[name], str) for name in "ksib")
            and all(type(fields[name]) is int for name in "te"))


def _mac_keys() -> list[tuple[str, bytes]]:
    """(kid, key) per signing key, first = current: HMAC(signing key, label)."""
    return [(kid, hmac.new(key, _KEY_LABEL, hashlib.sha256).digest())
            for kid, key in pow.signing_keys()]


def _mac(key: bytes, *parts: str) -> bytes:
    return hmac.new(key, "|".join(parts).encode("utf-8"), hashlib.sha256).digest()


def binding(key: bytes, secret_hash: str) -> str:
    return b64url.encode(_mac(key, "secret", secret_hash)[:_BINDING_BYTES])


def issue(anchor: sites.SessionAnchor, now_ms: int) -> tuple[Session, str]:
    """A new session of the anchor's site and its cookie value."""
    kid, key = _mac_keys()[0]
    session = Session(kid, anchor.site.site_key, b64url.encode(secrets.token_bytes(16)),
                      # Strictly after the cutoff, even within its millisecond.
                      max(now_ms, anchor.sessions_after + 1),
                      now_ms // 1000 + SESSION_SECONDS, binding(key, anchor.secret_hash))
    payload = b64url.encode(json.dumps(
        {"k": session.kid, "s": session.site_key, "i": session.sid, "t": session.issued_ms,
         "e": session.expires, "b": session.binding},
        separators=(",", ":"), sort_keys=True).encode("ascii"))
    signed = f"{_VERSION}.{payload}"
    return session, f"{signed}.{b64url.encode(_mac(key, signed))}"


def _key_of(kid: str) -> bytes | None:
    for each, key in _mac_keys():
        if hmac.compare_digest(each.encode(), kid.encode()):
            return key
    return None


def decode(value: str, now: int) -> Session:
    """The session a cookie value holds if its MAC holds and it has not expired."""
    if len(value) > _MAX_COOKIE_CHARS or not value.isascii():
        raise SignedOut("cookie too long or not ASCII")
    signed, dot, mac_text = value.rpartition(".")
    if not dot or not signed.startswith(_VERSION + "."):
        raise SignedOut("not a session")
    try:
        mac = b64url.decode(mac_text)
        fields = json.loads(b64url.decode(signed[len(_VERSION) + 1:]))
        kid = fields["k"]
        key = _key_of(kid) if isinstance(kid, str) else None
        # The MAC is checked before any field is believed.
        if key is None or not hmac.compare_digest(_mac(key, signed), mac):
            raise SignedOut("bad session MAC")
        if not _typed(fields):
            raise SignedOut("ill-typed session fields")
        session = Session(kid, fields["s"], fields["i"], fields["t"], fields["e"], fields["b"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SignedOut("malformed session") from None
    if session.expires <= now:
        raise SignedOut("expired session")
    return session


def check(session: Session) -> SiteInfo:
    """The session's site if the session still holds there (see the module docstring)."""
    anchor = sites.session_anchor(session.site_key)
    key = _key_of(session.kid)
    if anchor is None or anchor.site.disabled or key is None:
        raise SignedOut("site unknown or disabled")
    if not hmac.compare_digest(binding(key, anchor.secret_hash), session.binding):
        raise SignedOut("the secret was rotated")
    if session.issued_ms <= anchor.sessions_after:
        raise SignedOut("signed out")
    return anchor.site


def address_tag(address: str) -> str:
    """A client address as stored: keyed, so the 2^32 IPv4 addresses cannot be
    tried against it (a plain hash of one can)."""
    return b64url.encode(_mac(_mac_keys()[0][1], "address", address)[:16])


def csrf_token(session: Session) -> str:
    key = _key_of(session.kid)
    if key is None:
        raise SignedOut("signing key retired")
    return b64url.encode(_mac(key, "csrf", session.sid))


def check_csrf(session: Session, token: str | None) -> None:
    if not token or not hmac.compare_digest(csrf_token(session).encode(), token.encode("utf-8")):
        raise InvalidCsrf("missing or wrong CSRF token")


def cookie_value(header: str | None) -> str | None:
    """The session cookie's value in a Cookie header (None if absent or unparsable)."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE_NAME)
    return morsel.value if morsel else None


def set_cookie(value: str, path: str, secure: bool, max_age: int = SESSION_SECONDS) -> str:
    """A Set-Cookie header value: HttpOnly, SameSite=Strict, Secure over HTTPS."""
    jar: SimpleCookie = SimpleCookie()
    jar[COOKIE_NAME] = value
    morsel = jar[COOKIE_NAME]
    morsel["path"] = path
    morsel["max-age"] = str(max_age)
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


def clear_cookie(path: str, secure: bool) -> str:
    return set_cookie("", path, secure, max_age=0)
