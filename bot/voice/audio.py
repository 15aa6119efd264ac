"""Any audio a platform sends → 16 kHz mono samples: ffprobe checks what it is and how long, ffmpeg decodes at most a
little past the length limit; every problem a user can cause is a `SpeechError`."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.voice.errors import SpeechError, SpeechUnavailable

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_INPUT_BYTES = 100 * 1024 * 1024  # a 2-minute 96 kHz 24-bit stereo WAV is 69 MB
LENGTH_TOLERANCE_S = 1.0  # a "2:00" recording is often a few frames longer
SILENT_PEAK_DBFS = -60.0  # below this the recording is silence, whatever the model would say
PROBE_TIMEOUT_S = 20.0
DECODE_TIMEOUT_S = 90.0

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


def too_long(seconds: float | None, limit: float) -> SpeechError:
    return SpeechError("too_long", seconds=seconds, limit_s=limit)


def not_audio() -> SpeechError:
    return SpeechError("not_audio")


def unsupported(codec: str | None) -> SpeechError:
    return SpeechError("unsupported_codec", codec=codec)


def _undecodable() -> SpeechError:
    return SpeechError("undecodable")


@contextlib.contextmanager
def as_file(data: bytes, mime: str | None) -> Iterator[Path]:
    """ffmpeg needs a seekable file for some containers (M4A with its index at the end)."""
    suffix = _MIME_SUFFIX.get((mime or "").split(";")[0].strip().lower(), "")
    with tempfile.TemporaryDirectory(prefix="recbot-voice-") as tmp:
        path = Path(tmp) / f"voice{suffix}"
        path.write_bytes(data)
        yield path


def probe(path: Path) -> dict[str, Any]:
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
        raise _undecodable() if _audio_signature(path) else not_audio()
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


def float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def decode(path: Path, limit_s: float) -> Any:
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
            raise unsupported(errors.split("Decoder (codec", 1)[1].split(")", 1)[0].strip())
        if "Invalid data found" in errors or "does not contain any stream" in errors or "matches no streams" in errors:
            raise not_audio()
        log.info("speech: ffmpeg failed (%s): %s", done.returncode, errors.strip()[-300:])
        raise _undecodable()
    pcm = done.stdout[: len(done.stdout) // 2 * 2]
    return AudioSegment(data=pcm, sample_width=2, frame_rate=SAMPLE_RATE, channels=1)


def silence() -> SpeechError:
    return SpeechError("silence")
