"""Resource namespaces: plural nouns with create / get / list / update / delete, sync and async."""
