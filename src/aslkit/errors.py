"""User-facing errors: one clear line, no traceback, non-zero exit from the CLI."""

from __future__ import annotations


class AslkitError(Exception):
    """A problem with the user's input or setup, reported as one line by the CLI."""


class ImageError(AslkitError):
    """A file that cannot be used as an image (missing, empty, corrupt, too small or too large)."""


class ImageTooLarge(ImageError):
    """An image refused for its size (bytes or pixels), not its content: the server answers 413 for it, 415 for
    any other ImageError, by type rather than by searching the message (which holds the file's name)."""


class DatasetError(AslkitError):
    """A dataset folder or file whose layout aslkit cannot read."""


class ModelError(AslkitError):
    """A model name or run folder that cannot be found or loaded."""
