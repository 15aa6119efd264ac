"""Text printed on a product (a name on a bottle, a brand on a bag), read offline.

RapidOCR runs PP-OCRv4 detection and recognition through onnxruntime; its ONNX weights ship inside the
`rapidocr-onnxruntime` wheel, so nothing is downloaded. The engine loads once per process, on first use.
"""

from __future__ import annotations

import logging
import re
import threading

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

MIN_SIDE = 48  # a thumbnail this small holds no legible print
MAX_PIXELS = 1_500_000  # above this, detection time grows for little gain: shrink first
MIN_CONFIDENCE = 0.6  # below this, recognitions are mostly texture read as letters
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


class TextReader:
    """Reads the lines of text in a photo; an empty list when there are none or OCR is unavailable."""

    _shared: TextReader | None = None

    def __init__(self) -> None:
        self._engine = None
        self._unavailable = False
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> TextReader:
        """One reader per process: the models load once and every photo reuses them."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def _load(self):
        with self._lock:
            if self._engine is None and not self._unavailable:
                try:
                    from rapidocr_onnxruntime import RapidOCR
                except ImportError as exc:  # an install without it still searches by picture and colour
                    log.warning("OCR unavailable (%s); photos are searched without their printed text", exc)
                    self._unavailable = True
                    return None
                # Two threads: the machine is small and a chat turn runs other models beside this one.
                self._engine = RapidOCR(intra_op_num_threads=2, inter_op_num_threads=1)
        return self._engine

    def read(self, image: Image.Image) -> list[str]:
        """The lines of text recognised with confidence, top to bottom as the detector found them."""
        if min(image.size) < MIN_SIDE:
            return []
        if image.width * image.height > MAX_PIXELS:
            image = image.copy()
            scale = (MAX_PIXELS / (image.width * image.height)) ** 0.5
            image.thumbnail((int(image.width * scale), int(image.height * scale)))
        engine = self._load()
        if engine is None:
            return []
        result, _ = engine(np.asarray(image.convert("RGB"))[:, :, ::-1])  # the engine expects OpenCV's BGR
        return [str(text) for _, text, score in result or [] if float(score) >= MIN_CONFIDENCE and str(text).strip()]


def words(lines: list[str]) -> list[str]:
    """Lower-case words of two or more letters or digits, in reading order."""
    return [w for line in lines for w in _WORD.findall(line.lower()) if len(w) >= 2]


def read_text(image: Image.Image) -> list[str]:
    """The lines of text printed in a photo (the shared reader)."""
    return TextReader.shared().read(image)
