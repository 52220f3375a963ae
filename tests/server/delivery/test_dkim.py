"""DKIM signatures made through OpenSSL are byte for byte the ones dkimpy computes itself."""

from __future__ import annotations

from types import SimpleNamespace

import dkim
import dkim.crypto

from tidings_server.delivery import dkim_keys
from tidings_server.store.models import DkimKey

RAW = (
    b"From: Ana <ana@agents.localhost>\r\nTo: bob@example.org\r\nSubject: Hello\r\n"
    b"Message-ID: <1@agents.localhost>\r\nDate: Tue, 01 Dec 2026 05:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi Bob\r\n"
)


def test_openssl_signature_matches_dkimpys_own_and_verifies(monkeypatch) -> None:
    pem, public = dkim_keys._new_key()
    key = DkimKey(
        domain="agents.localhost", selector="tidings", private_key_pem=pem, public_key_b64=public
    )
    # Both signatures carry t=now; a fixed clock keeps a second boundary from parting them.
    monkeypatch.setattr(dkim, "time", SimpleNamespace(time=lambda: 1_796_452_290.0))
    signed = dkim_keys.sign(RAW, key)
    monkeypatch.setattr(dkim, "RSASSA_PKCS1_v1_5_sign", dkim.crypto.RSASSA_PKCS1_v1_5_sign)
    assert dkim_keys.sign(RAW, key) == signed

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"tidings._domainkey.agents.localhost."
        return dkim_keys.dns_record(key).encode()

    assert dkim.verify(signed, dnsfunc=dns)
