"""Model architectures, registered by name. Importing this package registers every architecture."""

from aslkit.models import clip_vit as _clip_vit  # noqa: F401  (registers its variants)
from aslkit.models import efficientnet_lite as _efficientnet_lite  # noqa: F401  (registers its variants)
from aslkit.models import image_cnn as _image_cnn  # noqa: F401  (registers its variants)
from aslkit.models import landmark_mlp as _landmark_mlp  # noqa: F401  (registers its variants)
from aslkit.models import mobilenetv2 as _mobilenetv2  # noqa: F401  (registers its variants)
from aslkit.models.registry import ModelInfo, create_model, get_model_info, list_models, register_model

__all__ = ["ModelInfo", "create_model", "get_model_info", "list_models", "register_model"]
