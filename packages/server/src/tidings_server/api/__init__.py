"""HTTP API: thin routers over the services, and the machinery every endpoint shares.

`app.create_app(settings)` builds the ASGI app. Conventions (errors, request ids, pagination,
idempotency, ETags, rate limits, the unit of work) live once in this package. The package
itself imports nothing, so that a view model (`api.schemas`) can be imported without the
whole application: events build their payloads with them.
"""
