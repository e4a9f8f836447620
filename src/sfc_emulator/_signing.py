"""Presigned storage URLs: HMAC-SHA256 over method, path and expiry.

A presigned URL is `{base}{path}?expires={unix ms}&signature={hex}`; the signature covers
`METHOD\\npath\\nexpires` under a secret key that lives in the data dir, so URLs stay valid across
a restart. Expiry is carried in milliseconds so that sub-second TTLs (and a TTL of 0, "already
expired") behave exactly. HEAD is checked as GET, as object stores do for presigned downloads.
Verification is pure: the caller passes the current time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from sfc_emulator._errors import StorageError


def _signed_method(method: str) -> str:
    return "GET" if method == "HEAD" else method


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs and checks presigned URLs with one secret key."""

    key: bytes

    def signature(self, method: str, path: str, expires_ms: int) -> str:
        message = f"{_signed_method(method)}\n{path}\n{expires_ms}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def presign(self, base_url: str, method: str, path: str, expires_ms: int) -> str:
        """The full URL for `method` on `path`, valid until `expires_ms` (unix milliseconds)."""
        query = urlencode(
            {"expires": expires_ms, "signature": self.signature(method, path, expires_ms)}
        )
        return f"{base_url.rstrip('/')}{path}?{query}"

    def check(
        self, method: str, path: str, query: Mapping[str, str], now_ms: int
    ) -> StorageError | None:
        """Why a request to a presigned URL must be refused, or None if it is valid.

        A tampered URL is reported as such even when it has also expired, because a changed
        `expires` is itself tampering.
        """
        expires_raw = query.get("expires")
        signature = query.get("signature")
        if expires_raw is None or signature is None:
            return StorageError(
                403,
                "AccessDenied",
                "Query-string authentication requires the expires and signature parameters",
                path,
            )
        if not expires_raw.isdigit() or not hmac.compare_digest(
            signature.encode(), self.signature(method, path, int(expires_raw)).encode()
        ):
            return StorageError(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
                path,
            )
        if now_ms >= int(expires_raw):
            return StorageError(403, "AccessDenied", "Request has expired", path)
        return None
