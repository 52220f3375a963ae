"""The stdlib's header registry, keeping the header classes it makes.

`HeaderRegistry.__getitem__` builds a new class with `type()` for every header it parses or
sets, though the class depends only on which kind of header it is: that was a sixth of
building a message. Cached per kind, not per name, so that mail with endless new header
names cannot grow the cache.
"""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from typing import Any


class CachingHeaderRegistry(HeaderRegistry):
    # Keyed by the kind (the registered class), so `map_to_type` needs no invalidation.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made: dict[type, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


HEADERS = CachingHeaderRegistry()
