"""Usage: what sends and receipts cost, booked in an append-only ledger.

Sends report the work behind them (tokens, outcomes, compute, custom units); an identity's
pricing plan turns that into exact amounts; quotas cap sends, recipients and spend; and
marketplace requests hold a buyer's budget until the seller's answer settles it.
"""
