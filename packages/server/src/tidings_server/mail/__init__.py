"""Mail: the rules for messages and threads in hosted mailboxes (receiving, reading, sending).

Protocol edges (`smtp`, `api`) call in here; nothing here speaks SMTP or HTTP.
"""
