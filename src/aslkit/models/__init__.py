"""Model architectures, registered by name: one file per architecture, which registers its variants.

Torch-free architecture files are imported here; those that need torch at import time are listed in
``defer_import`` and imported the first time the registry is asked for a name it does not know yet,
or for the full list. Adding a model: write its file, add it to one of the two lists below.
"""

from aslkit.models import landmark_mlp as _landmark_mlp  # noqa: F401  (registers its variants)
from aslkit.models.registry import ModelInfo, create_model, defer_import, get_model_info, list_models, register_model

defer_import(
    "aslkit.models.clip_vit",
    "aslkit.models.efficientnet_lite",
    "aslkit.models.image_cnn",
    "aslkit.models.mobilenetv2",
    "aslkit.models.seq_lstm_attn",
    "aslkit.models.seq_tcn",
    "aslkit.models.sign_dictionary",
)

__all__ = ["ModelInfo", "create_model", "get_model_info", "list_models", "register_model"]
