"""DKIM: one RSA key per hosted domain, made at first start, and signing outbound mail with it."""

from __future__ import annotations

import base64
import functools
from datetime import datetime
from typing import Any

import dkim  # type: ignore[import-untyped]  # dkimpy ships no type hints
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import DkimKey
from tidings_server.store.repositories.dialect import upsert

SELECTOR = "tidings"
SIGNED_HEADERS = [
    b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
    b"mime-version", b"content-type", b"reply-to",
]  # fmt: skip


@functools.lru_cache(maxsize=16)
def _openssl_key(numbers: tuple[int, ...]) -> rsa.RSAPrivateKey:
    n, e, d, p, q, dmp1, dmq1, iqmp = numbers
    public = rsa.RSAPublicNumbers(e, n)
    return rsa.RSAPrivateNumbers(p, q, d, dmp1, dmq1, iqmp, public).private_key()


def _openssl_pkcs1_sign(digest: Any, key: dict[str, int]) -> bytes:
    """RSASSA-PKCS1-v1_5 as dkimpy computes it, but by OpenSSL: dkimpy's pure-Python `pow`
    took 6.5 ms of the event loop per outbound message, OpenSSL takes a fraction of that.
    PKCS#1 v1.5 signatures are deterministic, so the bytes are the same (a test checks)."""
    numbers = tuple(
        key[name]
        for name in (
            "modulus", "publicExponent", "privateExponent", "prime1", "prime2",
            "exponent1", "exponent2", "coefficient",
        )
    )  # fmt: skip
    algorithm = hashes.SHA256() if digest.name == "sha256" else hashes.SHA1()  # noqa: S303
    return _openssl_key(numbers).sign(digest.digest(), padding.PKCS1v15(), Prehashed(algorithm))


# dkimpy looks these functions up in its own namespace when it signs with an RSA key. It
# parses the PEM key afresh for every message, in Python's ASN.1 code (about a tenth of a
# signature's time); the parsed numbers are only read, so one parse per key serves them all.
dkim.RSASSA_PKCS1_v1_5_sign = _openssl_pkcs1_sign
dkim.parse_pem_private_key = functools.lru_cache(maxsize=16)(dkim.crypto.parse_pem_private_key)


def _new_key() -> tuple[str, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, base64.b64encode(public_der).decode()


async def ensure_key(session: AsyncSession, domain: str, now: datetime) -> DkimKey:
    """The domain's key, created once; processes racing at first start agree on one."""
    existing = await session.get(DkimKey, domain)
    if existing is not None:
        return existing
    pem, public = _new_key()
    await session.execute(
        upsert(session, DkimKey)
        .values(
            domain=domain,
            selector=SELECTOR,
            private_key_pem=pem,
            public_key_b64=public,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["domain"])
    )
    key = await session.scalar(sa.select(DkimKey).where(DkimKey.domain == domain))
    assert key is not None
    return key


def dns_record(key: DkimKey) -> str:
    """The TXT record to publish at `<selector>._domainkey.<domain>`."""
    return f"v=DKIM1; k=rsa; p={key.public_key_b64}"


def sign(raw: bytes, key: DkimKey) -> bytes:
    """`raw` with a DKIM-Signature header prepended (relaxed/relaxed, rsa-sha256)."""
    signature = dkim.sign(
        raw,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key_pem.encode(),
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=SIGNED_HEADERS,
    )
    return bytes(signature) + raw
