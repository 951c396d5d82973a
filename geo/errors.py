"""One error hierarchy, so callers catch the library's errors without catching everything."""

from __future__ import annotations


class NkMapError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(NkMapError, ValueError):
    """Bad input: names where (line, column), the value and why it is refused."""

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        self.value = value
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class LayerError(NkMapError, LookupError):
    """A reference layer is unknown, missing on disk or malformed."""


class AssetError(NkMapError, RuntimeError):
    """A web asset the map needs is not installed, or a map still points off-machine."""


class StoreError(NkMapError, RuntimeError):
    """The event store refused or could not perform an operation; nothing was changed."""


class Superseded(NkMapError):
    """A store read stopped because its answer was no longer wanted (geo.store.giveway):
    not a failure, nothing was changed."""


class AuthError(NkMapError, PermissionError):
    """Sign-in refused, a session expired, or an account lacks the role an action needs."""
