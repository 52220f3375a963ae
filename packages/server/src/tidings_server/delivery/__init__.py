"""Delivery: the worker that drains the outbox, and the transports mail leaves through.

Hosted recipients are delivered internally (in the job's own transaction); others go through
the configured transport (capture, relay, or MX), DKIM-signed, with retries and bounces.
"""
