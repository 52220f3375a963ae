"""Receiving mail over SMTP for hosted mailboxes, from real peers and raw sockets."""

from __future__ import annotations

import shutil
import smtplib
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa

from tests.support.api import create_identity, list_messages
from tests.support.live import LiveServer
from tests.support.smtp import RawSmtp
from tidings_server.store.engine import create_sync_engine
from tidings_server.store.models import Identity, Message


def inbox(api: httpx2.Client, address: str) -> list[dict]:
    return list(api.get(f"/v1/mailboxes/{address}/messages").json()["data"])


@contextmanager
def at_data(server: LiveServer, address: str, sender: str = "x@example.com") -> Iterator[RawSmtp]:
    """A raw SMTP session whose DATA for `address` has just been answered 354."""
    smtp = RawSmtp(*server.smtp_address)
    try:
        smtp.command("EHLO tester")
        smtp.command(f"MAIL FROM:<{sender}>")
        smtp.command(f"RCPT TO:<{address}>")
        assert smtp.command("DATA")[0] == 354
        yield smtp
    finally:
        smtp.close()


def test_swaks_delivers_a_message_with_non_ascii_subject_and_attachment(
    server: LiveServer, tmp_path: Path
) -> None:
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed (apt-get install swaks)")
    attachment = tmp_path / "report.pdf"
    attachment.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    host, port = server.smtp_address
    with server.client() as api:
        address = create_identity(api, "support-bot")
        result = subprocess.run(
            [
                "swaks", "--server", host, "--port", str(port),
                "--from", "ana@example.com", "--to", address,
                "--header", "Subject: =?UTF-8?B?w4FydsOtenTFsXLFkSB0w7xrw7ZyZsO6csOzZ8OpcA==?=",
                "--body", "Hello from swaks\n",
                "--attach-type", "application/pdf", "--attach", f"@{attachment}",
            ],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "250 2.0.0 OK msg_" in result.stdout
        [summary] = inbox(api, address)
        message = api.get(f"/v1/mailboxes/{address}/messages/{summary['id']}").json()
        [part] = message["attachments"]
        download = api.get(
            f"/v1/mailboxes/{address}/messages/{message['id']}/attachments/{part['id']}"
        )
        raw = api.get(f"/v1/mailboxes/{address}/messages/{message['id']}/raw")
    assert message["subject"] == "Árvíztűrő tükörfúrógép"
    assert message["direction"] == "inbound"
    assert message["status"] == "received"
    assert message["from"] == {"name": "", "address": "ana@example.com"}
    assert "Hello from swaks" in message["body_text"]
    assert part["filename"] == "report.pdf"
    assert part["content_type"] == "application/pdf"
    assert download.content == attachment.read_bytes()
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    assert raw.headers["content-type"] == "message/rfc822"
    assert b"Hello from swaks" in raw.content
    assert len(raw.content) == message["size"]


def test_each_hosted_recipient_gets_its_own_copy(server: LiveServer) -> None:
    with server.client() as api:
        ana, bob = create_identity(api, "ana"), create_identity(api, "bob")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "carol@example.com", f"{ana}, {bob}", "Hi"
        mail.set_content("Hello both")
        with smtplib.SMTP(*server.smtp_address) as smtp:
            refused = smtp.send_message(mail)
        assert refused == {}
        # 250 came after the commit, so both copies are readable at once.
        assert [m["subject"] for m in inbox(api, ana)] == ["Hi"]
        assert [m["subject"] for m in inbox(api, bob)] == ["Hi"]


def test_unknown_mailbox_and_foreign_domain_are_refused(server: LiveServer) -> None:
    with server.client() as api:
        create_identity(api, "ana")
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail("x@example.com")
        code, text = smtp.rcpt("nobody-here@agents.localhost")
        assert (code, text[:5]) == (550, b"5.1.1")
        code, text = smtp.rcpt("someone@example.org")
        assert (code, text[:5]) == (550, b"5.7.1")
        code, _ = smtp.rcpt("ANA@Agents.Localhost")  # addresses are case-insensitive
        assert code == 250


def test_a_mailbox_created_after_a_refusal_receives_at_once(server: LiveServer) -> None:
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail("x@example.com")
        assert smtp.rcpt("late@agents.localhost")[0] == 550
        with server.client() as api:
            create_identity(api, "late")
        assert smtp.rcpt("late@agents.localhost")[0] == 250


def test_a_deleted_identity_is_refused_at_rcpt_at_once(server: LiveServer) -> None:
    with server.client() as api:
        address = create_identity(api, "ana")
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail("x@example.com")
        assert smtp.rcpt(address)[0] == 250
        with server.client() as api:
            api.delete("/v1/identities/ana").raise_for_status()
        assert smtp.rcpt(address)[0] == 550


def test_a_mailbox_deleted_by_another_process_is_refused_after_data_until_rcpt_knows(
    database_url: str, tmp_path: Path
) -> None:
    """This server remembers a found address for `smtp_recipient_cache_seconds`; when the CLI
    or a second server deletes its identity meanwhile, mail to it is refused after DATA and
    nothing is stored, and once the time is up RCPT refuses it again."""
    from tests.support.live import start_server

    with start_server(
        database_url=database_url, data_dir=tmp_path / "d", smtp_recipient_cache_seconds=1.0
    ) as server:
        with server.client() as api:
            address = create_identity(api, "ana")
        message = f"From: x@example.com\r\nTo: {address}\r\nSubject: hi\r\n\r\nhello\r\n"
        with smtplib.SMTP(*server.smtp_address) as smtp:
            smtp.ehlo()
            smtp.mail("x@example.com")
            assert smtp.rcpt(address)[0] == 250
            smtp.rset()
            engine = create_sync_engine(server.settings.resolved_database_url)
            with engine.begin() as connection:
                connection.execute(sa.delete(Identity).where(Identity.handle == "ana"))
            with engine.connect() as connection:
                stored_before = connection.scalar(sa.select(sa.func.count()).select_from(Message))
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.sendmail("x@example.com", [address], message)
            with engine.connect() as connection:
                stored_after = connection.scalar(sa.select(sa.func.count()).select_from(Message))
            engine.dispose()
            time.sleep(1.0)
            smtp.mail("x@example.com")
            code = smtp.rcpt(address)[0]
    assert refused.value.smtp_code == 550
    assert stored_after == stored_before
    assert code == 550


@pytest.mark.parametrize(
    "recipient",
    [
        "<victim%example.org@agents.localhost>",  # percent hack
        "<@agents.localhost:victim@example.org>",  # source route
        '<"victim@example.org"@agents.localhost>',  # quoted local part
        "<ana@[127.0.0.1]>",  # IP literal
        "<example.org!victim@agents.localhost>",  # bang path
    ],
)
def test_relay_tricks_are_refused(server: LiveServer, recipient: str) -> None:
    with server.client() as api:
        create_identity(api, "ana")
    smtp = RawSmtp(*server.smtp_address)
    try:
        assert smtp.command("EHLO tester")[0] == 250
        assert smtp.command("MAIL FROM:<spammer@example.com>")[0] == 250
        code, text = smtp.command(f"RCPT TO:{recipient}")
    finally:
        smtp.close()
    assert code in (550, 553, 501), text


def test_size_is_advertised_and_enforced(database_url: str, tmp_path: Path) -> None:
    from tests.support.live import start_server

    with start_server(
        database_url=database_url, data_dir=tmp_path / "d", smtp_max_message_bytes=10_000
    ) as server:
        with server.client() as api:
            address = create_identity(api, "ana")
        with smtplib.SMTP(*server.smtp_address) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("size")
            assert smtp.esmtp_features["size"] == "10000"
            assert smtp.has_extn("smtputf8")
            assert smtp.has_extn("8bitmime")
            with pytest.raises(smtplib.SMTPException) as refused:
                smtp.sendmail("x@example.com", [address], b"Subject: big\r\n\r\n" + b"a" * 20_000)
        assert "552" in str(refused.value)
        with server.client() as api:
            assert inbox(api, address) == []


def test_recipients_per_message_are_bounded(database_url: str, tmp_path: Path) -> None:
    from tests.support.live import start_server

    with start_server(
        database_url=database_url, data_dir=tmp_path / "d", smtp_max_recipients=2
    ) as server:
        with server.client() as api:
            for handle in ("a1", "a2", "a3"):
                create_identity(api, handle)
        with smtplib.SMTP(*server.smtp_address) as smtp:
            smtp.ehlo()
            smtp.mail("x@example.com")
            assert smtp.rcpt("a1@agents.localhost")[0] == 250
            assert smtp.rcpt("a2@agents.localhost")[0] == 250
            assert smtp.rcpt("a3@agents.localhost")[0] == 452


def test_bare_line_feeds_do_not_end_the_data_smtp_smuggling(server: LiveServer) -> None:
    """A `<LF>.<LF>` (or `<CR>.<CR>`) inside DATA is content, not the end of the message."""
    with server.client() as api:
        address = create_identity(api, "ana")
    smuggled = (
        b"From: ana@example.com\r\nTo: " + address.encode() + b"\r\nSubject: outer\r\n\r\n"
        b"first part\n.\nMAIL FROM:<admin@example.com>\nRCPT TO:<" + address.encode() + b">\n"
        b"DATA\nSubject: smuggled\n\nsecond\r.\r\nmore\r\n.\r\n"
    )
    with at_data(server, address, sender="ana@example.com") as smtp:
        smtp.send_raw(smuggled)
        code, _ = smtp.reply()
    with server.client() as api:
        messages = inbox(api, address)
    assert code == 250
    assert [m["subject"] for m in messages] == ["outer"]


def test_a_large_message_arrives_byte_for_byte_with_the_next_transaction_pipelined(
    server: LiveServer,
) -> None:
    """300 KiB with lines that start with dots, and a second message sent in the same write
    as the first one's end: both stored exactly as written."""
    with server.client() as api:
        address = create_identity(api, "ana")
    lines = [f"{'.' * (n % 3)}line {n} {'x' * (n % 90)}".encode() for n in range(4000)]
    first = b"Subject: big\r\n\r\n" + b"\r\n".join(lines) + b"\r\n"
    second = b"Subject: after\r\n\r\n.\r\n..\r\nend\r\n"

    def stuffed(message: bytes) -> bytes:
        return (
            b"".join(
                (b"." + line if line.startswith(b".") else line) + b"\r\n"
                for line in message.removesuffix(b"\r\n").split(b"\r\n")
            )
            + b".\r\n"
        )

    with at_data(server, address) as smtp:
        smtp.send_raw(
            stuffed(first) + f"MAIL FROM:<x@example.com>\r\nRCPT TO:<{address}>\r\n".encode()
        )
        codes = [smtp.reply()[0] for _ in range(3)]
        assert smtp.command("DATA")[0] == 354
        smtp.send_raw(stuffed(second))
        codes.append(smtp.reply()[0])
    assert codes == [250, 250, 250, 250]
    with server.client() as api:
        stored = {
            m["subject"]: api.get(f"/v1/mailboxes/{address}/messages/{m['id']}/raw").content
            for m in inbox(api, address)
        }
    assert stored == {"big": first, "after": second}


def test_a_data_line_over_1000_bytes_is_refused_and_the_session_goes_on(
    server: LiveServer,
) -> None:
    with server.client() as api:
        address = create_identity(api, "ana")
    with at_data(server, address) as smtp:
        smtp.send_raw(b"Subject: long\r\n\r\n" + b"a" * 2000 + b"\r\n.\r\n")
        refused = smtp.reply()
        accepted_after = smtp.command("MAIL FROM:<x@example.com>")[0]
    assert refused[0] == 500
    assert "too long" in refused[1]
    assert accepted_after == 250
    with server.client() as api:
        assert inbox(api, address) == []


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agents.localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("agents.localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_is_offered_with_a_certificate_and_mail_flows_over_it(
    database_url: str, tmp_path: Path
) -> None:
    import ssl

    from tests.support.live import start_server

    cert, key = _self_signed(tmp_path)
    with start_server(
        database_url=database_url, data_dir=tmp_path / "d", smtp_tls_cert=cert, smtp_tls_key=key
    ) as server:
        with server.client() as api:
            address = create_identity(api, "ana")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        with smtplib.SMTP(*server.smtp_address) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            smtp.starttls(context=context)
            smtp.ehlo()
            smtp.sendmail("x@example.com", [address], b"Subject: secret\r\n\r\nover TLS\r\n")
        with server.client() as api:
            assert [m["subject"] for m in inbox(api, address)] == ["secret"]


def test_without_a_certificate_starttls_is_not_offered(server: LiveServer) -> None:
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("starttls")


def test_blobs_of_received_mail_are_never_collected(server: LiveServer) -> None:
    import asyncio
    import os
    from datetime import UTC, datetime, timedelta

    from tidings_server.blobs.collector import collect_orphans
    from tidings_server.store.engine import create_engine, session_factory

    with server.client() as api:
        address = create_identity(api, "ana")
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.sendmail("x@example.com", [address], b"Subject: keep me\r\n\r\nbody\r\n")
    blob_files = list(server.settings.blob_dir.glob("??/??/*"))
    assert blob_files
    old = (datetime.now(UTC) - timedelta(days=1)).timestamp()
    for path in blob_files:
        os.utime(path, (old, old))

    async def sweep() -> int:
        # The server's own engine belongs to its event loop: use one of our own.
        engine = create_engine(server.settings.resolved_database_url)
        try:
            reads = session_factory(engine, writes=False)
            return await collect_orphans(server.runtime.blobs, reads, datetime.now(UTC))
        finally:
            await engine.dispose()

    assert asyncio.run(sweep()) == 0
    assert all(path.exists() for path in blob_files)


def test_an_empty_message_is_refused_permanently_and_nothing_is_stored(server: LiveServer) -> None:
    """A message that cannot be stored at all gets 554 (a retry cannot help), not 451."""
    with server.client() as api:
        address = create_identity(api, "ana")
    with at_data(server, address) as smtp:
        code, text = smtp.command(".")
    assert code == 554, text
    with server.client() as api:
        assert inbox(api, address) == []


def test_command_lines_are_bounded(server: LiveServer) -> None:
    smtp = RawSmtp(*server.smtp_address)
    try:
        smtp.command("EHLO tester")
        code, _ = smtp.command("MAIL FROM:<" + "a" * 2000 + "@example.com>")
    finally:
        smtp.close()
    assert code == 500


def test_smtputf8_mail_with_an_international_sender_is_received(server: LiveServer) -> None:
    with server.client() as api:
        address = create_identity(api, "ana")
    raw = (
        "From: Jürgen <jürgen@bücher.example>\r\nTo: " + address + "\r\n"
        "Subject: Grüße aus München\r\n\r\nSchöne Grüße\r\n"
    ).encode()
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.sendmail("jürgen@bücher.example", [address], raw, mail_options=["SMTPUTF8"])
    with server.client() as api:
        [summary] = inbox(api, address)
        message = api.get(f"/v1/mailboxes/{address}/messages/{summary['id']}").json()
    assert message["subject"] == "Grüße aus München"
    assert message["from"]["name"] == "Jürgen"
    assert message["from"]["address"].startswith("jürgen@")
    assert "Schöne Grüße" in message["body_text"]


def test_malformed_mime_is_stored_with_its_best_parse_and_warnings(server: LiveServer) -> None:
    with server.client() as api:
        address = create_identity(api, "ana")
    broken = (
        b"From: x@example.com\r\nTo: " + address.encode() + b"\r\nSubject: broken\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
        b"still readable\r\n"
    )
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.sendmail("x@example.com", [address], broken)
    with server.client() as api:
        [summary] = inbox(api, address)
        message = api.get(f"/v1/mailboxes/{address}/messages/{summary['id']}").json()
    assert "still readable" in message["body_text"]
    assert message["parse_warnings"]


def test_a_large_message_does_not_stall_the_api(server: LiveServer) -> None:
    """Receiving and parsing 20 MB happens beside the API, which keeps answering quickly."""
    import threading
    import time

    with server.client() as api:
        address = create_identity(api, "ana")
    body = ("line of a long report " * 4 + "\r\n").encode() * 230_000  # about 20 MB
    raw = b"Subject: big\r\nTo: " + address.encode() + b"\r\n\r\n" + body
    done = threading.Event()

    def deliver() -> None:
        with smtplib.SMTP(*server.smtp_address) as smtp:
            smtp.sendmail("x@example.com", [address], raw)
        done.set()

    sender = threading.Thread(target=deliver)
    sender.start()
    slowest = 0.0
    with server.anonymous() as api:
        while not done.is_set():
            started = time.monotonic()
            assert api.get("/healthz").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.02)
    sender.join()
    with server.client() as api:
        [message] = inbox(api, address)
    assert message["size"] == len(raw)
    assert slowest < 1.0


def test_concurrent_sessions_each_get_their_own_message_stored_and_announced(
    server: LiveServer,
) -> None:
    # Sessions that finish DATA together share a commit (store/group_commit.py): each reply
    # must still name only that session's message, stored once and announced once.
    sessions, per_session = 6, 8
    with server.client() as api:
        address = create_identity(api, "busy")

        def send_all(session: int) -> list[tuple[str, str]]:
            replies = []
            with smtplib.SMTP(*server.smtp_address) as smtp:
                smtp.ehlo()
                for n in range(per_session):
                    subject = f"session {session} message {n}"
                    mail = EmailMessage()
                    mail["From"], mail["To"], mail["Subject"] = "load@example.com", address, subject
                    mail.set_content(f"body of {subject}")
                    smtp.mail("load@example.com")
                    smtp.rcpt(address)
                    code, reply = smtp.data(mail.as_bytes())
                    assert code == 250, reply
                    replies.append((subject, reply.decode().split()[-1]))
            return replies

        with ThreadPoolExecutor(sessions) as pool:
            sent = dict(pair for replies in pool.map(send_all, range(sessions)) for pair in replies)
        stored = {m["subject"]: m["id"] for m in list_messages(api, address, limit=100)}
        events = api.get("/v1/events", params={"types": "message.received", "limit": 100}).json()
    assert len(sent) == sessions * per_session
    assert stored == sent
    announced = [e["data"]["message"]["id"] for e in events["data"]]
    assert sorted(announced) == sorted(sent.values())
