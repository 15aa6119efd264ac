"""Voice notes → text: pydub/ffmpeg normalise any audio to 16 kHz mono, faster-whisper (whisper-base, CPU int8)
transcribes it in the language spoken.

The whisper-base weights and the model class are in bot/voice/whisper.py, decoding in bot/voice/audio.py.

Every problem a user can cause raises `SpeechError` (bot/voice/errors.py), a code the bot words in the shopper's language.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bot.voice.audio import (
    LENGTH_TOLERANCE_S,
    MAX_INPUT_BYTES,
    SILENT_PEAK_DBFS,
    as_file,
    decode,
    float_or_none,
    not_audio,
    probe,
    silence,
    too_long,
    unsupported,
)
from bot.voice.errors import SpeechError, SpeechUnavailable
from bot.voice.whisper import assemble_model, model_class, model_dir

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from bot.config import BotConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # ISO 639-1 code as whisper names it: "en", "zh", …
    duration_s: float  # length of the audio that was heard (after the length check, before silence removal)


class SpeechToText:
    """One per process (`shared(config)`); the model loads on first use, once, whichever thread asks first."""

    _instances: ClassVar[dict[tuple[Any, ...], SpeechToText]] = {}
    _models: ClassVar[dict[Path, WhisperModel]] = {}
    _class_lock: ClassVar[threading.Lock] = threading.Lock()
    _model_lock: ClassVar[threading.Lock] = threading.Lock()
    _infer_lock: ClassVar[threading.Lock] = threading.Lock()  # one transcription at a time: bounded memory, 2 cores

    def __init__(self, config: BotConfig) -> None:
        self.model_dir = model_dir(config)
        self.max_seconds = float(config.speech.max_seconds)
        self.language = config.speech.language or None
        self.languages = tuple(config.chat.languages)  # what the bot reads: detection picks among these
        self.beam_size = int(config.speech.beam_size)
        self.fit_window = config.speech.encoder_window == "fit"
        self.use_hints = config.speech.catalogue_hints
        self.hints: dict[str, str] = {}  # language code → the shop's words for Whisper's prompt (bot/voice/hints.py)

    @classmethod
    def shared(cls, config: BotConfig) -> SpeechToText:
        """The process-wide recogniser for these settings (the model itself is shared across settings)."""
        key = (model_dir(config), *config.speech.model_dump().values(), tuple(config.chat.languages))
        with cls._class_lock:
            instance = cls._instances.get(key)
            if instance is None:
                instance = cls._instances[key] = cls(config)
            return instance

    # -- model ------------------------------------------------------------------------------------------------------
    def model(self) -> WhisperModel:
        model = self._models.get(self.model_dir)
        if model is not None:
            return model
        with self._model_lock:
            model = self._models.get(self.model_dir)
            if model is None:
                model = self._models[self.model_dir] = self._load()
        return model

    def load(self) -> None:
        """Load now (e.g. at start-up, off the event loop) instead of on the first voice note."""
        try:
            self.model()
        except SpeechUnavailable as exc:
            log.error("speech: model unavailable: %s", exc.detail)
            raise

    def _load(self) -> WhisperModel:
        started = time.monotonic()
        path = assemble_model(self.model_dir)
        try:
            # one thread per core: CTranslate2's default of 4 oversubscribes a 2-core machine (RTF 0.27 → 0.23 there)
            model = model_class()(str(path), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 0, local_files_only=True)
        except (RuntimeError, OSError, ValueError) as exc:
            raise SpeechUnavailable(f"whisper-base in {path} does not load: {exc}") from exc
        log.info("speech: whisper-base loaded from %s in %.1f s", path, time.monotonic() - started)
        return model

    # -- the one entry point ----------------------------------------------------------------------------------------
    def transcribe(self, data: bytes, mime: str | None = None) -> Transcript:
        """Voice-note bytes (any container ffmpeg reads) → what was said. Raises `SpeechError` for the user to read."""
        size = len(data or b"")
        try:
            return self._transcribe(data or b"", mime)
        except SpeechUnavailable as exc:
            log.error("speech: cannot transcribe a voice note (%d bytes, %s): %s", size, mime or "no mime", exc.detail)
            raise
        except SpeechError as exc:
            log.info("speech: refused a voice note (%d bytes, %s): %s", size, mime or "no mime", exc.reason)
            raise

    def _transcribe(self, data: bytes, mime: str | None) -> Transcript:
        if not data.strip(b"\x00"):
            raise SpeechError("empty")
        if len(data) > MAX_INPUT_BYTES:
            raise SpeechError("too_large", megabytes=len(data) // (1024 * 1024), limit_s=self.max_seconds)
        started = time.monotonic()
        with as_file(data, mime) as path:
            info = probe(path)
            audio_streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
            if not audio_streams:
                raise not_audio()
            codec = audio_streams[0].get("codec_name")
            if not codec or codec == "none":
                raise unsupported(None)
            # Refuse a long file from its header, before decoding any of it.
            declared = float_or_none(audio_streams[0].get("duration")) or float_or_none(info["format"].get("duration"))
            limit = self.max_seconds + LENGTH_TOLERANCE_S
            if declared is not None and declared > limit:
                raise too_long(declared, self.max_seconds)
            # Headers can be missing (streamed WebM) or lie: decode at most a little past the limit, never more.
            segment = decode(path, limit + 0.5)
        heard_s = len(segment) / 1000.0
        if heard_s > limit:
            raise too_long(None, self.max_seconds)
        if heard_s < 0.1 or segment.max_dBFS < SILENT_PEAK_DBFS:
            raise silence()
        samples = np.asarray(segment.get_array_of_samples(), dtype=np.float32) / 32768.0
        decoded_at = time.monotonic()
        text, language = self._recognise(samples)
        if not text:
            raise silence()
        log.info(
            "speech: %.1f s of %s (%s) → %d chars in %s; decode %.2f s, model %.2f s",
            heard_s,
            codec,
            mime or "no mime",
            len(text),
            language,
            decoded_at - started,
            time.monotonic() - decoded_at,
        )
        return Transcript(text=text, language=language, duration_s=round(heard_s, 3))

    def _recognise(self, samples: np.ndarray) -> tuple[str, str]:
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        model = self.model()
        with self._infer_lock:
            # faster-whisper's own VAD (the one `vad_filter=True` runs), applied here once so that a note with no
            # speech in it never reaches the decoder, which would otherwise invent words for silence or noise.
            speech = get_speech_timestamps(samples, VadOptions())
            if not speech:
                return "", self.language or ""
            chunks, _ = collect_chunks(samples, speech)
            voiced = np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
            model.fit_window = self.fit_window
            language = self.language
            if language is None:
                # Detect on exactly the first window `transcribe` will decode, so the encoder memo serves both.
                features = model.feature_extractor(voiced)
                language, probability, ranked = model.detect_language(features=features[..., : features.shape[-1] - 1])
                # Accented or synthetic Mandarin may score as Japanese or Cantonese: of the languages the bot reads, the
                # likeliest (a clip in none of them still comes out in the nearest one, and its words tell the rest)
                readable = [(code, p) for code, p in ranked if code in self.languages]
                if readable and language not in self.languages:
                    log.info("speech: heard %s (p=%.2f); decoding as %s (p=%.2f)", language, probability, *readable[0])
                    language = readable[0][0]
                log.debug("speech: detected %s (p=%.2f)", language, probability)
            try:
                segments, _info = model.transcribe(
                    voiced,
                    language=language,
                    beam_size=self.beam_size,
                    vad_filter=False,  # applied above
                    condition_on_previous_text=False,  # no runaway repetition across 30 s windows
                    # the shop's words as hotwords (re-sent every window): on spoken requests as good as an initial prompt
                    # for kinds, colours and budgets, and less harm to other speech (WER 6.5 % vs 7.8 % on the voice eval)
                    hotwords=self.hints.get(language) if self.use_hints else None,
                    without_timestamps=True,
                    # Whisper retries a low-confidence window at 0.2, 0.4 … 1.0: on unclear speech that is 6 decodes
                    # (3–4× the time of a turn). One retry keeps the repetition-loop escape at bounded cost.
                    temperature=(0.0, 0.4),
                )
                text = " ".join(s.text.strip() for s in segments if s.text.strip())
            finally:
                model.forget()
        return collapse_repeats(" ".join(text.split())), language


def collapse_repeats(text: str, shortest: int = 3) -> str:
    """The text with a run of words said again straight after itself kept once: Whisper's loop on unclear audio
    ("a blue hoodie under 50 a blue hoodie under 50 a blue hoodie under 50") heard as what was said once. A phrase of
    fewer than `shortest` words may be repeated on purpose ("very, very"), so it stays."""
    words = text.split()
    folded = [re.sub(r"\W", "", w.lower()) for w in words]
    n = len(words)
    for size in range(n // 2, shortest - 1, -1):
        start = 0
        while start + 2 * size <= len(folded):
            if folded[start : start + size] == folded[start + size : start + 2 * size]:
                del words[start + size : start + 2 * size]
                del folded[start + size : start + 2 * size]
            else:
                start += 1
    return " ".join(words)


_MODEL_CLASS: type | None = None
