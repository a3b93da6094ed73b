"""Model architectures, registered by name. Importing this package registers every architecture."""

from aslkit.models import landmark_mlp as _landmark_mlp  # noqa: F401  (registers its variants)
from aslkit.models.registry import ModelInfo, create_model, get_model_info, list_models, register_model

__all__ = ["ModelInfo", "create_model", "get_model_info", "list_models", "register_model"]
