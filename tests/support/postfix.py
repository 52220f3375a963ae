"""A private Postfix instance (Debian's postfix) as a real relay and a real receiving MX.

It runs from its own config and queue directories in a temp folder, in the foreground, so
tests start and stop it without touching the system's Postfix.
"""

from __future__ import annotations

import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sink import _wait_listening


@dataclass
class Postfix:
    port: int
    root: Path

    def mailbox(self, address: str) -> list[bytes]:
        """Messages delivered to a virtual mailbox (a maildir)."""
        folder = self.root / "mail" / address / "new"
        return [p.read_bytes() for p in sorted(folder.iterdir())] if folder.exists() else []

    def log(self) -> str:
        return (self.root / "postfix.log").read_text(errors="replace")


def _main_cf(root: Path, relays: Mapping[str, int], mailboxes: Sequence[str]) -> str:
    owner = pwd.getpwnam("postfix")
    transports = ", ".join(f"{d}=smtp:[127.0.0.1]:{p}" for d, p in relays.items())
    boxes = ", ".join(f"{a}={a}/" for a in mailboxes)
    domains = sorted({a.rpartition("@")[2] for a in mailboxes})
    return "\n".join(
        [
            "compatibility_level = 3.6",
            f"queue_directory = {root}/queue",
            f"data_directory = {root}/data",
            "maillog_file = /dev/stdout",
            "myhostname = postfix.test",
            "mydestination =",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            f"relay_domains = {', '.join(relays) or '$mydestination'}",
            f"transport_maps = inline:{{ {transports} }}" if relays else "",
            f"virtual_mailbox_domains = {', '.join(domains)}" if domains else "",
            f"virtual_mailbox_base = {root}/mail",
            f"virtual_mailbox_maps = inline:{{ {boxes} }}" if boxes else "",
            f"virtual_uid_maps = static:{owner.pw_uid}",
            f"virtual_gid_maps = static:{owner.pw_gid}",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            "smtp_tls_security_level = none",
            "alias_maps =",
            "alias_database =",
            "",
        ]
    )


@contextmanager
def postfix(
    port: int, *, relays: Mapping[str, int] | None = None, mailboxes: Sequence[str] = ()
) -> Iterator[Postfix]:
    """Postfix on 127.0.0.1:`port`, relaying `relays` domains and delivering `mailboxes`."""
    if shutil.which("postfix") is None and not Path("/usr/sbin/postfix").exists():
        pytest.skip("Postfix is not installed (apt-get install postfix)")
    owner = pwd.getpwnam("postfix")
    relays = relays or {}
    # Postfix's own processes run as `postfix` and must reach these folders, which pytest's
    # private (0700) temp directories would not allow.
    root = Path(tempfile.mkdtemp(prefix="tidings-postfix-"))
    root.chmod(0o755)
    conf = root / "conf"
    for folder in ("conf", "queue", "data", "mail"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("data", "mail"):
        shutil.chown(root / folder, owner.pw_uid, owner.pw_gid)
    (conf / "main.cf").write_text(_main_cf(root, relays, mailboxes))
    master = Path("/etc/postfix/master.cf").read_text()
    master = re.sub(r"(?m)^smtp\s+inet\s.*$", f"127.0.0.1:{port} inet n - n - - smtpd", master)
    (conf / "master.cf").write_text(master)
    log = (root / "postfix.log").open("w")
    process = subprocess.Popen(
        ["postfix", "-c", str(conf), "start-fg"], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _wait_listening(port)
        yield Postfix(port, root)
    finally:
        subprocess.run(["postfix", "-c", str(conf), "stop"], capture_output=True, timeout=30)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print((root / "postfix.log").read_text(errors="replace"))  # pytest shows it on failure
        shutil.rmtree(root, ignore_errors=True)
