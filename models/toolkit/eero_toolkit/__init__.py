"""EERO model toolkit: build, train and export multi-exit networks as EERO bundles."""

__version__ = "0.1.0"


class ToolkitError(Exception):
    """A user-facing error: printed as one line by the CLI, exit code 2."""
