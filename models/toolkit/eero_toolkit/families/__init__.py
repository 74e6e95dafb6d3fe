"""Architecture families, one module each, found and registered on import.

A new family is one module here: a Family subclass decorated with @register_family("name"). The
rest of the toolkit (build_model, export, the CLI's --family choices) looks families up by name. A
family with hyperparameters of its own adds them to archs.ArchConfig as well."""

import importlib
import os
import pkgutil

from .base import Family, group_exits
from .registry import family_names, get_family, register_family

_INFRASTRUCTURE = {"base", "registry"}
for _module in pkgutil.iter_modules([os.path.dirname(__file__)]):
    if _module.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Family", "family_names", "get_family", "group_exits", "register_family"]
