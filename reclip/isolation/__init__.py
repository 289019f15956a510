"""Isolation methods: how one proposal is shown to CLIP, one registry (``ISOLATION``).

``images`` holds the methods that draw an image per proposal (crop, blur, shade,
circle, mask_*), ``global_local`` and ``region`` those computed inside the image tower.
Importing this package registers them all, in that order.
"""

from reclip.isolation.registry import (
    FEATURES, ISOLATION, PIXELS, IsolationError, IsolationMethod, MethodSpec, check_methods, get_method,
    isolation_method, method_names, method_prompt, parse_method, require_masks,
)
from reclip.isolation.images import isolate, isolate_many  # noqa: E402  (registers the pixel methods)
from reclip.isolation import global_local, region  # noqa: E402,F401  (register the feature methods)

__all__ = [
    "FEATURES", "ISOLATION", "PIXELS", "IsolationError", "IsolationMethod", "MethodSpec", "check_methods",
    "get_method", "isolate", "isolate_many", "isolation_method", "method_names", "method_prompt",
    "parse_method", "require_masks",
]
