"""Spoken shopping requests for `recbot eval voice`: written from the catalogue (its kinds, colours, prices and
currency) in English, since espeak-ng's voices used here are English ones; spoken in several voices, speeds and
pitches, and scored by what the bot's parser reads from the transcript — the kind, the colour and the budget heard
right — against what it reads from the written request. Half the requests are for tuning the decoding, half held out
(by a hash of the text)."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.understanding.constraints import parse
from bot.understanding.vocabulary import Vocabulary
from bot.voice.hints import money_word

# (voice, words a minute, pitch 0-99): a plain American voice, a fast low British one, a slow high one
VOICES = (("en-us", 150, 50), ("en-gb", 185, 30), ("en-us+f3", 125, 70))
TEMPLATES = (  # kinds as the catalogue names them ("pants", "fitness equipment"): a singular would be odd for some
    "I'm looking for {color} {kinds} under {price} {money}",
    "do you have {color} {kinds} for less than {price} {money}",
    "show me {kinds} in {color}, my budget is {price} {money}",
    "{color} {kinds} please, nothing over {price} {money}",
)
SPLITS = ("tuning", "held_out")


@dataclass(frozen=True)
class SpokenRequest:
    text: str
    split: str
    voice: tuple[str, int, int]


def split_of(text: str) -> str:
    return SPLITS[hashlib.sha256(text.encode()).digest()[0] % 2]


def requests(vocabulary: Vocabulary, kinds: int = 8, per_kind: int = 3) -> list[SpokenRequest]:
    """Requests over the catalogue's commonest kinds, each with a colour the shop names and a budget near its prices;
    every kind in `per_kind` wordings, colours and voices."""
    stocked = [(k, p) for k, _, p in vocabulary.kinds if p][:kinds]
    colors = [c.lower() for c in vocabulary.colors]
    money = money_word(vocabulary)  # the catalogue's currency, as a shopper says it
    out = []
    for n in range(len(stocked) * per_kind if colors else 0):
        kind, price = stocked[n % len(stocked)]
        kinds_word = re.split(vocabulary.lang.kind_separators, kind.lower())[0]  # "Bras & Tanks" → "bras"
        budget = max(10, int(math.ceil(price * (0.8 + 0.2 * (n % 3)) / 10) * 10))
        template = TEMPLATES[n % len(TEMPLATES)]
        text = template.format(color=colors[n % len(colors)], kinds=kinds_word, price=budget, money=money)
        out.append(SpokenRequest(text, split_of(text), VOICES[(n // len(stocked)) % len(VOICES)]))
    return out


def terms(text: str, vocabulary: Vocabulary) -> dict[str, object]:
    """What the parser reads of a request: the kinds (leaf names), the colours and the budget."""
    req = parse(text, vocabulary)
    return {
        "kind": sorted({c.split("/")[-1] for c in req.categories}),
        "color": sorted(req.colors),
        "price": req.max_price,
    }


def term_accuracy(written: str, heard: str, vocabulary: Vocabulary) -> tuple[int, int]:
    """(terms heard right, terms in the request) for one request."""
    want, got = terms(written, vocabulary), terms(heard, vocabulary)
    asked = [k for k, v in want.items() if v]
    return sum(want[k] == got[k] for k in asked), len(asked)


def speak(request: SpokenRequest, folder: Path) -> Path:
    """The request as a WAV file spoken by espeak-ng."""
    voice, speed, pitch = request.voice
    path = folder / f"{hashlib.sha1(f'{request.text}{request.voice}'.encode()).hexdigest()[:12]}.wav"
    command = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), request.text]
    subprocess.run(command, check=True, capture_output=True)
    return path


def spoken(vocabulary: Vocabulary) -> Iterator[tuple[SpokenRequest, bytes]]:
    """Each request with its audio; nothing when espeak-ng is not installed."""
    if shutil.which("espeak-ng") is None:
        return
    with tempfile.TemporaryDirectory(prefix="recbot-spoken-") as tmp:
        for request in requests(vocabulary):
            yield request, speak(request, Path(tmp)).read_bytes()


# -- harder copies of real recordings -----------------------------------------------------------------------------------
def with_noise(samples: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise mixed in at `snr_db` below the speech's own power (float samples in -1..1)."""
    rng = np.random.default_rng(seed)
    power = float(np.mean(samples.astype(np.float64) ** 2)) or 1e-12
    noise = rng.normal(0.0, math.sqrt(power / 10 ** (snr_db / 10)), size=samples.shape)
    return np.clip(samples + noise, -1.0, 1.0).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV of float samples."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def phone_quality(data: bytes) -> bytes:
    """The clip as a phone line carries it: 8 kHz, 300-3400 Hz, 8-bit μ-law (ffmpeg)."""
    line = ["-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "wav"]
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "pipe:0", *line, "pipe:1"],
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout
