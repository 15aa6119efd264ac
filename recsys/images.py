"""Decoding untrusted image bytes into a bounded RGB picture, with clear errors."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a decompression bomb or a 60-megapixel photo is refused before decoding
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageError(ValueError):
    """An image the bot cannot use; the message is fit to show the user."""


def decode_image(data: bytes, max_side: int = 640) -> Image.Image:
    """Open, orient and flatten an image; large ones are shrunk so memory stays bounded."""
    if not data:
        raise ImageError("That image is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise ImageError(f"That image is too large ({len(data) // (1024 * 1024)} MB); please send one under 20 MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise ImageError("That image has too many pixels for me; please send a smaller photo.")
            img.draft("RGB", (max_side * 2, max_side * 2))  # JPEG: decode at reduced scale, cheaply
            img.seek(0)  # animated images: the first frame
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError("That image has too many pixels for me; please send a smaller photo.") from exc
    except UnidentifiedImageError as exc:
        raise ImageError("I couldn't read that as an image. Please send a JPEG or PNG photo.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError("That image seems to be damaged or cut off; could you send it again?") from exc
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
