"""Photos and voice notes, read off the event loop into what a text turn can use."""

from __future__ import annotations

import asyncio
import hashlib

from bot.agent.photos import PhotoVectors
from bot.config import BotConfig
from bot.voice.speech import SpeechToText, Transcript
from recsys.encoders.images import ImageError, decode_image
from recsys.photo.content import photo_problem
from recsys.ranking.recommender import Recommender

PHOTO_TAG = "[photo:{id}]"  # how a photo appears in the conversation; the tools look the photo up by this id


async def read_photo(data: bytes, recommender: Recommender, photos: PhotoVectors) -> str:
    """Decode, read (vector, colours, printed text) and keep the photo; returns its tag for the turn's text.
    Raises `ImageError` for a photo we cannot use."""
    image = await asyncio.to_thread(decode_image, data)
    if problem := await asyncio.to_thread(photo_problem, image):
        raise ImageError(problem[0], **problem[1])  # a few pixels, one flat colour or noise: no product to look for
    query = await asyncio.to_thread(recommender.encode_image, image)
    photo_id = hashlib.sha1(data).hexdigest()[:16]
    await asyncio.to_thread(photos.save, photo_id, query)
    return PHOTO_TAG.format(id=photo_id)


async def transcribe(config: BotConfig, data: bytes, mime: str | None) -> Transcript:
    """What was said in a voice note; raises `SpeechError` for one we cannot hear."""
    return await asyncio.to_thread(SpeechToText.shared(config).transcribe, data, mime)
