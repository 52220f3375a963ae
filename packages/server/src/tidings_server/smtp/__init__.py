"""SMTP: the listener that receives mail for hosted mailboxes (aiosmtpd).

The handler keeps SMTP state and reply codes here; what is accepted and how it is stored is
decided by `mail.receiving.MailReceiver`. `smtp.protocol` is aiosmtpd's protocol with two
faster paths: DATA in blocks (`smtp.data`) and plain addresses (`smtp.paths`).
"""

from tidings_server.smtp.listener import SmtpListener

__all__ = ["SmtpListener"]
