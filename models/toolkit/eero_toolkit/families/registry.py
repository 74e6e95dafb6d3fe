"""Architecture families by name (as timm registers its models): one module per family in this package."""

from __future__ import annotations

from collections.abc import Callable

from .base import Family

_FAMILIES: dict[str, Family] = {}


def register_family(name: str) -> Callable[[type[Family]], type[Family]]:
    """Class decorator: registers one instance of the Family subclass under `name`."""

    def register(cls: type[Family]) -> type[Family]:
        if name in _FAMILIES:
            raise ValueError(f"architecture family {name!r} is registered twice")
        family = cls()
        family.name = name
        _FAMILIES[name] = family
        return cls

    return register


def family_names() -> list[str]:
    return sorted(_FAMILIES)


def get_family(name: str) -> Family:
    if name not in _FAMILIES:
        raise ValueError(f"unknown architecture {name!r} ({' | '.join(family_names())})")
    return _FAMILIES[name]
