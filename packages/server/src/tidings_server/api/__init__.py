"""HTTP API: thin routers over the services, and the machinery every endpoint shares.

`create_app(settings)` builds the ASGI app. Conventions (errors, request ids, pagination,
idempotency, ETags, rate limits, the unit of work) live once in this package.
"""

from tidings_server.api.app import create_app

__all__ = ["create_app"]
