"""Request and response shapes of the public API, one module per resource."""
