"""Directory: organisations, identities, their mailboxes and the API keys that act for them.

Services here hold the rules and never commit; the caller's unit of work does.
"""
