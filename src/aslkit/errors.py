"""User-facing errors: one clear line, no traceback, non-zero exit from the CLI."""

from __future__ import annotations


class AslkitError(Exception):
    """A problem with the user's input or setup, reported as one line by the CLI."""


class ImageError(AslkitError):
    """A file that cannot be used as an image (missing, empty, corrupt, too small or too large)."""


class DatasetError(AslkitError):
    """A dataset folder or file whose layout aslkit cannot read."""


class ModelError(AslkitError):
    """A model name or run folder that cannot be found or loaded."""
