"""SMTP: the listener that receives mail for hosted mailboxes (aiosmtpd).

The handler keeps SMTP state and reply codes here; what is accepted and how it is stored is
decided by `mail.receiving.MailReceiver`. `smtp.data` reads each message's DATA in blocks
instead of aiosmtpd's line at a time.
"""

from tidings_server.smtp.listener import SmtpListener

__all__ = ["SmtpListener"]
