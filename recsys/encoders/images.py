"""Decoding untrusted image bytes into a bounded RGB picture; what is wrong with a bad one comes back as a code."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb or a 60-megapixel photo is refused before decoding
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageError(ValueError):
    """An image we cannot use: `code` says why (empty, too_large, too_many_pixels, not_an_image, damaged), `data` holds
    the numbers a message would quote; the bot words it for the user."""

    def __init__(self, code: str, **data: object) -> None:
        super().__init__(code, data)
        self.code = code
        self.data = data


def decode_image(data: bytes, max_side: int = 640) -> Image.Image:
    """Open, orient and flatten an image; large ones are shrunk so memory stays bounded."""
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_BYTES:
        raise ImageError("too_large", megabytes=len(data) // (1024 * 1024), limit_mb=MAX_BYTES // (1024 * 1024))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise ImageError("too_many_pixels")
            img.draft("RGB", (max_side * 2, max_side * 2))  # JPEG: decode at reduced scale, cheaply
            img.seek(0)  # animated images: the first frame
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("too_many_pixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageError("not_an_image") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("damaged") from exc
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))  # transparency → studio white
        background.paste(rgba, mask=rgba.getchannel("A"))
        img = background
    else:
        img = img.convert("RGB")
    img.thumbnail((max_side, max_side))
    return img


def load_image_file(path: str) -> Image.Image:
    with open(path, "rb") as fh:
        return decode_image(fh.read())
