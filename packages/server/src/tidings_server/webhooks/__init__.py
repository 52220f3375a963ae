"""Webhooks: subscriptions, signed delivery with retries and replay, and the egress rules that
keep deliveries off private networks.
"""
