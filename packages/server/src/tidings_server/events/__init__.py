"""Events: the durable, ordered log of what happened, written in the transaction of the change."""

from tidings_server.events.log import append_event

__all__ = ["append_event"]
