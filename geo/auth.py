"""Accounts, roles and sign-in: who may change the record.

Trust model (docs/decisions/0003-trust-boundary.md):
- **viewer** reads (and, unless NKMAP_REQUIRE_LOGIN=1, so does anyone who can open the page);
- **editor** imports and undoes imports;
- **admin** manages accounts (from the CLI, which is trusted: it runs with shell access).

Passwords are hashed with Argon2id (argon2-cffi, its recommended parameters) and kept in the
store; neither a password nor its hash is ever logged or shown. Failed sign-ins are counted
per account name in the store (so several app servers share the count): after
`MAX_FAILURES` within `FAILURE_WINDOW`, that name cannot sign in until the window passes.
A dashboard session expires after `Settings.session_idle_minutes` without activity and
`Settings.session_max_hours` after sign-in; every write re-reads the account, so a removed or
demoted user loses the right at once.

Pure decisions here; the Streamlit glue (form, session state) is in geo/ui.py.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from geo.errors import AuthError, InputError

ROLES = ("viewer", "editor", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; this bounds the work one request can cause
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
# Accounts that sign in through an identity provider (st.login) have no local password.
NO_PASSWORD = "!external"  # noqa: S105 (a marker no Argon2 hash can equal)


def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:  # a dependency of the project: say how to get it
        raise ImportError(
            "accounts need argon2-cffi: pip install 'argon2-cffi>=23.1' (or make setup)"
        ) from exc
    return PasswordHasher()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_name(name: str) -> str:
    """The account name, or InputError saying what a name may contain."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            "an account name is 1-64 letters, digits or . _ @ + - (starting with a letter or "
            "digit)",
            value=name,
        )
    return name


def check_role(role: str) -> str:
    if role not in _RANK:
        raise InputError(f"role must be one of {', '.join(ROLES)}", value=role)
    return role


def check_password(password: str) -> str:
    """The password, or InputError (which never repeats the password)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError(f"a password has at most {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise InputError("a password cannot contain a NUL character")
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def new_password() -> str:
    """A random password for a new account (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


def at_least(role: str | None, needed: str) -> bool:
    """True when `role` may do what `needed` may (admin ⊇ editor ⊇ viewer)."""
    return role in _RANK and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class Identity:
    """Who is acting: an account (name, role) or the CLI's OS user (trusted)."""

    name: str
    role: str
    via: str = "password"  # password | oidc | cli

    @property
    def label(self) -> str:
        """What batches record as their user."""
        return f"cli:{self.name}" if self.via == "cli" else self.name


def add_user(store, name: str, role: str, password: str | None, *, created_by: str) -> None:
    """Create an account; `password=None` makes one that signs in through st.login only."""
    check_name(name)
    check_role(role)
    digest = NO_PASSWORD if password is None else hash_password(password)
    store.add_user(name, role, digest, created_by=created_by)


def set_password(store, name: str, password: str) -> None:
    if not store.set_password_hash(name, hash_password(password)):
        raise AuthError(f"no account named {name!r}")


def sign_in(store, name: str, password: str, *, now: dt.datetime | None = None) -> Identity:
    """The identity of `name` if `password` is right; AuthError otherwise.

    The message is the same for an unknown name and a wrong password. A name with
    MAX_FAILURES failures within FAILURE_WINDOW is refused without checking the password.
    """
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    now = now or _now()
    name = (name or "").strip()
    refused = AuthError("wrong account name or password")
    if not _NAME.match(name) or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        raise refused
    if store.signin_failures_since(name, now - FAILURE_WINDOW) >= MAX_FAILURES:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise AuthError(
            f"too many failed sign-ins for {name!r}: try again in {minutes} minutes "
            "(an admin can reset the password with `nkmap users passwd`)"
        )
    user = store.user(name)
    hasher = _hasher()
    digest = user.password_hash if user is not None else None
    try:
        if digest is None or digest == NO_PASSWORD:
            # Same work as a real check, so timing does not tell which names exist.
            hasher.verify(_DUMMY_HASH.get(), password or "x")
            raise VerifyMismatchError
        hasher.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        store.record_signin_failure(name, now)
        raise refused from None
    store.clear_signin_failures(name)
    if hasher.check_needs_rehash(digest):
        store.set_password_hash(user.name, hasher.hash(password))
    return Identity(user.name, user.role)


class _Dummy:
    """A hash of a random password, made on first use (hashing costs ~50 ms)."""

    _value: str | None = None

    def get(self) -> str:
        if self._value is None:
            self._value = _hasher().hash(secrets.token_hex(16))
        return self._value


_DUMMY_HASH = _Dummy()


def current_role(store, identity: Identity | None) -> str | None:
    """The role `identity` has now (re-read from the store: a removed account has none)."""
    if identity is None:
        return None
    if identity.via == "cli":
        return identity.role
    user = store.user(identity.name)
    return user.role if user is not None else None


def require(store, identity: Identity | None, needed: str) -> Identity:
    """`identity` if its account (as stored now) has at least the role `needed`."""
    if identity is None:
        raise AuthError(f"sign in as {'an' if needed[0] in 'ae' else 'a'} {needed} first")
    if not at_least(current_role(store, identity), needed):
        raise AuthError(f"{identity.name!r} is not allowed to do this (needs {needed})")
    return identity


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard session: who, and when it started and was last used."""

    identity: Identity
    started: dt.datetime
    last_seen: dt.datetime

    def expired(self, now: dt.datetime, idle: dt.timedelta, longest: dt.timedelta) -> bool:
        return now - self.last_seen > idle or now - self.started > longest

    def touched(self, now: dt.datetime) -> Session:
        return Session(self.identity, self.started, now)


def bootstrap_admin(store, password: str | None = None) -> tuple[str, str | None]:
    """Make sure an admin exists. Returns (name, password printed once) — the password is
    None when an admin existed already or when `password` was given (NKMAP_ADMIN_PASSWORD)."""
    admins = [u for u in store.users() if u.role == "admin"]
    if admins:
        return admins[0].name, None
    shown = None
    if password is None:
        password = shown = new_password()
    add_user(store, "admin", "admin", password, created_by="bootstrap")
    return "admin", shown
