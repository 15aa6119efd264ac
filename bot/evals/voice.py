"""`recbot eval voice`: word error rate and real-time factor of the voice-note path on real recorded speech.

Every clip goes through `SpeechToText.transcribe` exactly as a user's voice note does (ffmpeg decode, length check,
VAD, language detection, whisper-base), so the figures are the product's, not the bare model's.
Sets (in `<data>/speech`): FLEURS English as OGG/Opus (a Telegram voice note's container and codec), LibriSpeech
FLAC, LJ Speech WAV, and real Mandarin (`zh`, OGG/Opus, scored as character error rate). Text is normalised before
scoring: case, punctuation, numbers spelled out, a few British/American spellings.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.config import BotConfig
from bot.evals.spoken_requests import SPLITS, phone_quality, spoken, term_accuracy, wav_bytes, with_noise
from bot.evals.transcript_scoring import normalise, normalise_zh, word_errors
from bot.understanding.vocabulary import Vocabulary
from bot.voice.errors import SpeechError, SpeechUnavailable
from bot.voice.hints import catalogue_hints
from bot.voice.speech import SpeechToText

GOAL_WER = 0.05  # on FLEURS + LibriSpeech
GOAL_WER_NOISY = 0.10  # the same at 10 dB SNR
GOAL_RTF = 0.10  # on 2 cores
GOAL_TERMS = 0.95  # spoken requests: kind, colour and budget heard right


@dataclass(frozen=True)
class Clip:
    set: str
    id: str
    path: Path
    reference: str


# -- data -----------------------------------------------------------------------------------------------------------


def load_clips(speech_dir: Path) -> list[Clip]:
    clips: list[Clip] = []
    fleurs = speech_dir / "fleurs"
    for audio in sorted(fleurs.glob("*.ogg")):
        text = audio.with_suffix(".txt")
        if text.is_file():
            clips.append(Clip("fleurs", audio.stem, audio, text.read_text(encoding="utf-8").strip()))
    libri = speech_dir / "librispeech"
    if (libri / "transcripts.txt").is_file():
        for line in (libri / "transcripts.txt").read_text(encoding="utf-8").splitlines():
            utt, _, text = line.strip().partition(" ")
            if utt and (libri / f"{utt}.flac").is_file():
                clips.append(Clip("librispeech", utt, libri / f"{utt}.flac", text))
    lj = speech_dir / "ljspeech"
    if (lj / "metadata.csv").is_file():
        with open(lj / "metadata.csv", encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh, delimiter="|", quoting=csv.QUOTE_NONE):
                if len(row) >= 2 and (lj / f"{row[0]}.wav").is_file():
                    clips.append(Clip("ljspeech", row[0], lj / f"{row[0]}.wav", row[-1]))  # the normalised column
    zh = speech_dir / "zh"
    if (zh / "transcripts.tsv").is_file():  # real Mandarin; the OGG/Opus copies, as a Telegram voice note arrives
        for line in (zh / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            name, _, text = line.strip().partition("\t")
            audio = (zh / name).with_suffix(".ogg")
            if text and audio.is_file():
                clips.append(Clip("zh", audio.stem, audio, text))
    return clips


# -- the run --------------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    errors: int = 0
    words: int = 0
    audio_s: float = 0.0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    clips: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.errors += other.errors
        self.words += other.words
        self.audio_s += other.audio_s
        self.wall_s += other.wall_s
        self.cpu_s += other.cpu_s
        self.clips += other.clips
        self.failures += other.failures

    @property
    def wer(self) -> float | None:
        return self.errors / self.words if self.words else None

    @property
    def rtf(self) -> float | None:
        return self.wall_s / self.audio_s if self.audio_s else None

    @property
    def rtf_cpu(self) -> float | None:
        return self.cpu_s / self.audio_s if self.audio_s else None


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg/ffprobe)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _audio_seconds(path: Path) -> float:
    from pydub.utils import mediainfo

    try:
        return float(mediainfo(str(path)).get("duration", 0.0))
    except (TypeError, ValueError):
        return 0.0


def run(config: BotConfig, args: argparse.Namespace) -> int:
    speech_dir = Path(args.data) / "speech"
    clips = load_clips(speech_dir) if speech_dir.is_dir() else []
    if getattr(args, "lang", None):  # --lang zh: the Mandarin clips only; --lang en: the English sets
        clips = [c for c in clips if (c.set == "zh") == (args.lang == "zh")]
    if not clips:
        print(f"recbot eval voice: no speech clips with transcripts under {speech_dir} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    stt = SpeechToText.shared(config)
    vocabulary = _vocabulary(config)
    stt.hints = catalogue_hints(vocabulary)  # as the bot sets them at start
    load_avg_start = os.getloadavg()
    started = time.monotonic()
    try:
        stt.load()
        load_s = time.monotonic() - started
        # One untimed warm-up so the first timed clip doesn't pay for the VAD session and first allocations.
        stt.transcribe(clips[0].path.read_bytes(), None)
    except SpeechUnavailable as exc:
        print(f"recbot eval voice: speech recognition is unavailable: {exc.detail}", file=sys.stderr)
        return 1

    sets: dict[str, Tally] = {}
    details: list[dict[str, object]] = []
    for clip in clips:
        tally, detail = _score(stt, clip.set, clip.id, clip.path.read_bytes(), clip.reference)
        sets.setdefault(clip.set, Tally()).add(tally)
        details.append(detail)
    harder = _harder_copies(stt, [c for c in clips if c.set in ("fleurs", "librispeech")], config.speech.max_seconds)
    spoken = _spoken_requests(stt, vocabulary)

    overall, goal_sets = Tally(), Tally()
    for name, tally in sets.items():
        if name != "zh":  # characters, not words: reported apart as CER
            overall.add(tally)
        if name in ("fleurs", "librispeech"):
            goal_sets.add(tally)
    load_avg_end = os.getloadavg()
    result = {
        "wer": {name: _round(t.wer) for name, t in sets.items()}
        | {"fleurs+librispeech": _round(goal_sets.wer), "overall": _round(overall.wer)},
        "cer": {"zh": _round(sets["zh"].wer)} if "zh" in sets else {},
        "rtf": _round(overall.rtf),
        "rtf_per_set": {name: _round(t.rtf) for name, t in sets.items()},
        "rtf_cpu": _round(overall.rtf_cpu),
        "clips": {name: t.clips for name, t in sets.items()},
        "audio_s": round(overall.audio_s, 1),
        "model_load_s": round(load_s, 2),
        "settings": {
            "model": "whisper-base int8 (CTranslate2)",
            "beam_size": stt.beam_size,
            "language": stt.language or "detect",
            "encoder_window": "fit" if stt.fit_window else "full",
            "catalogue_hints": stt.hints.get(vocabulary.lang.code) if stt.use_hints else None,
        },
        "machine": {"cpus": os.cpu_count(), "load_avg_start": _loads(load_avg_start), "load_avg_end": _loads(load_avg_end)},
        "wer_harder": {name: _round(t.wer) for name, t in harder.items()},
        "product_terms": spoken,
        "goals": {"wer_fleurs+librispeech": GOAL_WER, "wer_10db": GOAL_WER_NOISY, "rtf": GOAL_RTF, "product_terms": GOAL_TERMS},
        "failures": overall.failures + [f for t in harder.values() for f in t.failures],
        "utterances": details,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(
        f"voice eval on {speech_dir}: {len(clips)} clips, {sum(t.audio_s for t in sets.values()):.0f} s of speech, "
        f"whisper-base int8, beam {stt.beam_size}, "
        f"{'fitted' if stt.fit_window else 'full 30 s'} encoder window"
    )
    print(f"{'set':<20}{'clips':>6}{'audio s':>9}{'WER':>8}{'RTF':>7}{'CPU-s/s':>9}")
    rows = [*sets.items(), ("fleurs+librispeech", goal_sets), ("overall (English)", overall)]
    for name, t in rows:
        label = f"{name} (CER)" if name == "zh" else name
        print(f"{label:<20}{t.clips:>6}{t.audio_s:>9.1f}{_pct(t.wer):>8}{_fmt(t.rtf):>7}{_fmt(t.rtf_cpu):>9}")
    print(f"goals: WER ≤ {GOAL_WER:.0%} on fleurs+librispeech ({_pct(goal_sets.wer)}), RTF ≤ {GOAL_RTF} on 2 cores ({_fmt(overall.rtf)})")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_avg_start[0]:.1f} → {load_avg_end[0]:.1f} "
        "(RTF is wall time / audio time, so other work on the machine inflates it; CPU-s/s is this process plus ffmpeg)"
    )
    for name, t in harder.items():
        print(f"{name:<32}{t.clips:>6} clips  WER {_pct(t.wer)}")
    if spoken:
        print(
            "product terms heard right (kind, colour, budget as the parser reads them): "
            + ", ".join(f"{split} {_pct(v['accuracy'])} of {v['terms']}" for split, v in spoken["splits"].items())
        )
        for miss in spoken["misses"][:10]:
            print(f"  misheard: {miss}")
    print(f"model load {load_s:.1f} s (not in RTF)")
    for failure in overall.failures:
        print(f"failed: {failure}")
    return 0


def _score(stt: SpeechToText, set_name: str, clip_id: str, data: bytes, reference: str) -> tuple[Tally, dict[str, object]]:
    """One clip through the voice-note path, scored against its transcript."""
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    failures = []
    try:
        transcript = stt.transcribe(data, None)
        hypothesis, language, duration = transcript.text, transcript.language, transcript.duration_s
    except SpeechError as exc:
        hypothesis, language, duration = "", None, 0.0
        failures.append(f"{set_name}/{clip_id}: {exc}")
    wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
    score = normalise_zh if set_name == "zh" else normalise
    ref, hyp = score(reference), score(hypothesis)
    errors, words = word_errors(ref, hyp)
    detail = {"set": set_name, "id": clip_id, "wer": round(errors / words, 4) if words else None, "language": language}
    detail |= {"reference": ref, "hypothesis": hyp, "audio_s": round(duration, 2), "wall_s": round(wall, 3)}
    return Tally(errors, words, duration, wall, cpu, 1, failures), detail


def _harder_copies(stt: SpeechToText, clips: list[Clip], max_seconds: float) -> dict[str, Tally]:
    """FLEURS + LibriSpeech again with white noise at 10 dB SNR, and as an 8 kHz phone line carries them."""
    from bot.voice.audio import decode

    noisy, phone = Tally(), Tally()
    for clip in clips:
        segment = decode(clip.path, max_seconds).set_frame_rate(16_000).set_channels(1)
        samples = np.asarray(segment.get_array_of_samples(), dtype=np.float32) / 32768.0
        noisy.add(_score(stt, "noise-10db", clip.id, wav_bytes(with_noise(samples, 10.0), 16_000), clip.reference)[0])
        phone.add(_score(stt, "phone-8khz", clip.id, phone_quality(clip.path.read_bytes()), clip.reference)[0])
    return {"fleurs+librispeech @ 10 dB SNR": noisy, "fleurs+librispeech @ 8 kHz": phone} if clips else {}


def _vocabulary(config: BotConfig) -> Vocabulary:
    """The served catalogue's words (the demo's by default), read from its file."""
    from recsys.catalogue.items import DEMO_CATALOGUE
    from recsys.catalogue.loading import load_catalogue

    loaded = load_catalogue(config.catalogue.path or DEMO_CATALOGUE)
    return Vocabulary.from_items(loaded.items, currency=config.catalogue.currency)


def _spoken_requests(stt: SpeechToText, vocabulary: Vocabulary) -> dict[str, object]:
    """Product-term accuracy on requests written from the catalogue and spoken by espeak-ng (empty without it)."""
    right: dict[str, list[int]] = {split: [0, 0] for split in SPLITS}
    misses = []
    for request, audio in spoken(vocabulary):
        try:
            heard = stt.transcribe(audio, "audio/wav").text
        except SpeechError as exc:
            heard = f"({exc})"
        good, asked = term_accuracy(request.text, heard, vocabulary)
        right[request.split][0] += good
        right[request.split][1] += asked
        if good < asked:
            misses.append(f"[{request.split}, {request.voice[0]}] {request.text!r} → {heard!r}")
    if not any(asked for _, asked in right.values()):
        return {}
    splits = {s: {"accuracy": _round(g / n) if n else None, "terms": n} for s, (g, n) in right.items()}
    return {"splits": splits, "misses": misses}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _loads(values: tuple[float, float, float]) -> list[float]:
    return [round(v, 2) for v in values]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
