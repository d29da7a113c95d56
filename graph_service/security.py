"""API keys with roles: stored hashed, compared in constant time.

Keys are configured as ``name:role:key`` entries (comma-separated in
``GRAPH_SERVICE_API_KEYS``, or one per line in ``GRAPH_SERVICE_KEYS_FILE``). A
keys-file line may give ``name:role:sha256:<hex>`` instead of the key itself, so
that the secret never sits on disk in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class Role(IntEnum):
    """Roles in increasing power: each role may do what the ones below it may."""

    READER = 1
    EDITOR = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}: expected reader, editor or admin") from None


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: Role
    digest: bytes


def hash_key(secret: str) -> bytes:
    """SHA-256 of a key (keys are long random tokens, so a fast hash is enough).

    >>> hash_key("s3cret").hex()[:12]
    '1ec1c26b50d5'
    """
    return hashlib.sha256(secret.encode("utf-8")).digest()


def parse_key_entry(entry: str, where: str) -> ApiKey:
    """One ``name:role:key`` or ``name:role:sha256:<hex>`` entry.

    >>> parse_key_entry("ops:admin:abcdefghijklmnop", "env").role.name
    'ADMIN'
    """
    parts = entry.strip().split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"{where}: key entry must be name:role:key")
    name, role_text, secret = parts
    role = Role.parse(role_text)
    if secret.startswith("sha256:"):
        try:
            digest = bytes.fromhex(secret.removeprefix("sha256:"))
        except ValueError:
            raise ValueError(f"{where}: key {name!r} has a malformed sha256 digest") from None
        if len(digest) != 32:
            raise ValueError(f"{where}: key {name!r} has a malformed sha256 digest")
    else:
        if len(secret) < 16:
            raise ValueError(f"{where}: key {name!r} is shorter than 16 characters")
        digest = hash_key(secret)
    return ApiKey(name=name, role=role, digest=digest)


class KeyRing:
    """The configured keys, held only as digests."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = keys

    @classmethod
    def from_settings(cls, entries: str, keys_file: Path | None) -> KeyRing:
        keys = [parse_key_entry(e, "GRAPH_SERVICE_API_KEYS") for e in entries.split(",") if e.strip()]
        if keys_file is not None:
            for number, line in enumerate(keys_file.read_text(encoding="utf-8").splitlines(), start=1):
                if line.strip() and not line.lstrip().startswith("#"):
                    keys.append(parse_key_entry(line, f"{keys_file}:{number}"))
        return cls(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, presented: str) -> ApiKey | None:
        """The key matching ``presented``; every configured key is compared, in constant time."""
        digest = hash_key(presented)
        found = None
        for key in self._keys:
            if hmac.compare_digest(digest, key.digest):
                found = key
        return found
