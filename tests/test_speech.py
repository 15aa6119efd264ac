"""Voice notes: the real whisper-base model on real recordings from ../shared/data/speech and on audio generated here.

Every input a user can send either comes back as text in the language spoken, or as a `SpeechError` whose message
tells them what to do.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from adapters.config import Config
from bot.evals.spoken_requests import phone_quality
from bot.evals.transcript_scoring import _edit_distance, normalise, word_errors
from bot.voice.errors import SpeechError, SpeechUnavailable
from bot.voice.speech import SpeechToText, Transcript, collapse_repeats
from bot.voice.whisper import MODEL_SHA256, assemble_model, fitted_window

REPO = Path(__file__).resolve().parent.parent
SPEECH = REPO.parent / "shared" / "data" / "speech"
FLEURS_CLIP = SPEECH / "fleurs" / "fleurs-en-000.ogg"
LIBRI_CLIP = SPEECH / "librispeech" / "1089-134691-0001.flac"
LIBRI_TEXT = "FOR A FULL HOUR HE HAD PACED UP AND DOWN WAITING BUT HE COULD WAIT NO LONGER"
LJ = SPEECH / "ljspeech"

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="Debian's ffmpeg is not installed (scripts/install_system_deps.sh installs it)",
)
needs_speech_data = pytest.mark.skipif(
    not (FLEURS_CLIP.is_file() and LIBRI_CLIP.is_file()), reason=f"shared speech data absent at {SPEECH} (see ../shared/data/README.md)"
)
slow = pytest.mark.slow


def wer(reference: str, hypothesis: str) -> float:
    errors, words = word_errors(normalise(reference), normalise(hypothesis))
    return errors / words


def ffmpeg(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-storage")


@pytest.fixture(scope="module")
def stt(storage: Path) -> SpeechToText:
    return SpeechToText.shared(Config(storage={"dir": storage}))


def refused(stt: SpeechToText, data: bytes, mime: str | None = None) -> SpeechError:
    with pytest.raises(SpeechError) as caught:
        stt.transcribe(data, mime)
    return caught.value


# -- text normalisation for WER (no model) --------------------------------------------------------------------------


def test_normalise_makes_equivalent_transcripts_equal() -> None:
    assert normalise("However, due to the slow communication channels, it could lag by 25 to 30 years.") == (
        "however due to the slow communication channels it could lag by twenty five to thirty years"
    )
    assert normalise("Twentieth-century research") == normalise("20th century research")
    assert normalise("in 1465 Sweynheim") == normalise("in fourteen sixty-five sweynheim")
    assert normalise("3:2 and 50%") == "three two and fifty percent"
    assert normalise("his belly COUNSELLED him; don't") == "his belly counseled him dont"


def test_word_errors_count_substitutions_deletions_and_insertions() -> None:
    assert word_errors("a b c d", "a x c d e") == (2, 4)
    assert word_errors("a b c", "") == (3, 3)
    assert _edit_distance(["the", "cat", "sat", "on", "the", "mat"], ["the", "cat", "sat", "mat", "down"]) == 3


# -- the model files ------------------------------------------------------------------------------------------------


def test_model_parts_that_do_not_match_the_checksum_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpeechUnavailable) as caught:
        assemble_model(tmp_path / "whisper-base", expected_sha256="0" * 64)
    assert "SHA-256" in caught.value.detail
    assert "can't listen to voice notes right now" in str(caught.value)
    assert not (tmp_path / "whisper-base" / "model.bin").exists()
    assert not (tmp_path / "whisper-base" / "model.bin.partial").exists()


@slow
def test_the_model_is_assembled_once_and_loaded_once_per_process(tmp_path: Path) -> None:
    config = Config(storage={"dir": tmp_path})
    assert SpeechToText.shared(config) is SpeechToText.shared(config)
    stt = SpeechToText.shared(config)
    models: list[object] = []
    threads = [threading.Thread(target=lambda: models.append(stt.model())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(models) == 3 and all(m is models[0] for m in models)
    model_bin = tmp_path / "models" / "whisper-base" / "model.bin"
    assert json.loads((model_bin.parent / "model.bin.sha256").read_text())["sha256"] == MODEL_SHA256
    before = model_bin.stat().st_mtime_ns
    assemble_model(model_bin.parent)
    assert model_bin.stat().st_mtime_ns == before  # verified earlier, not rebuilt


# -- real speech ----------------------------------------------------------------------------------------------------


@slow
@needs_ffmpeg
@needs_speech_data
def test_a_real_fleurs_opus_voice_note_transcribes_close_to_its_transcript(stt: SpeechToText) -> None:
    result = stt.transcribe(FLEURS_CLIP.read_bytes(), "audio/ogg")
    assert isinstance(result, Transcript)
    reference = FLEURS_CLIP.with_suffix(".txt").read_text(encoding="utf-8")
    assert wer(reference, result.text) <= 0.15, result.text
    assert result.language == "en"
    assert result.duration_s == pytest.approx(10.57, abs=0.2)


def test_a_phrase_whisper_says_again_and_again_is_kept_once() -> None:
    looped = "a blue hoodie under 50 dollars. A blue hoodie under 50 dollars. a blue hoodie under 50 dollars."
    assert collapse_repeats(looped) == "a blue hoodie under 50 dollars."
    assert collapse_repeats("I want a very, very warm jacket") == "I want a very, very warm jacket"  # said twice on purpose


@slow
@needs_ffmpeg
@needs_speech_data
def test_a_phone_quality_copy_of_a_real_voice_note_is_still_heard(stt: SpeechToText) -> None:
    reference = FLEURS_CLIP.with_suffix(".txt").read_text(encoding="utf-8")
    heard = stt.transcribe(phone_quality(FLEURS_CLIP.read_bytes()), "audio/wav").text
    assert wer(reference, heard) <= 0.3, heard
    assert collapse_repeats(heard) == heard


@slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_the_shops_own_words_are_heard_in_a_spoken_request(storage: Path, tmp_path: Path) -> None:
    """espeak-ng's British voice, fast and low: without the shop's words whisper-base hears "hoodies" as "hobbies"."""
    from bot.evals.spoken_requests import SpokenRequest, speak, terms
    from bot.understanding.vocabulary import Vocabulary
    from bot.voice.hints import catalogue_hints
    from recsys.catalogue.items import DEMO_CATALOGUE
    from recsys.catalogue.loading import load_catalogue

    vocabulary = Vocabulary.from_items(load_catalogue(DEMO_CATALOGUE).items)
    stt = SpeechToText(Config(storage={"dir": storage}))
    stt.hints = catalogue_hints(vocabulary)
    assert "hoodies" in stt.hints["en"] and "dollars" in stt.hints["en"]
    written = "do you have white hoodies for less than 50 dollars"
    audio = speak(SpokenRequest(written, "tuning", ("en-gb", 185, 30)), tmp_path).read_bytes()
    heard = stt.transcribe(audio, "audio/wav").text
    assert terms(heard, vocabulary)["kind"] == terms(written, vocabulary)["kind"] == ["Hoodies & Sweatshirts"], heard
    assert terms(heard, vocabulary)["price"] == 50, heard


CONTAINERS = [  # (what a platform sends, ffmpeg output options, mime the adapter passes)
    ("m4a-aac", ["-c:a", "aac", "-b:a", "48k", "-f", "ipod"], "audio/mp4"),  # index at the end: needs seeking
    ("webm-opus", ["-c:a", "libopus", "-b:a", "32k", "-f", "webm"], "audio/webm"),
    ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"], "audio/mpeg"),
    ("wav-44k-stereo", ["-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le", "-f", "wav"], "audio/wav"),
    ("flac", ["-c:a", "flac", "-f", "flac"], "audio/flac"),
    ("mp3-labelled-ogg", ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"], "audio/ogg"),  # the content decides
    ("ogg-vorbis-no-mime", ["-c:a", "libvorbis", "-f", "ogg"], None),
]


@slow
@needs_ffmpeg
@needs_speech_data
@pytest.mark.parametrize(("name", "options", "mime"), CONTAINERS, ids=[c[0] for c in CONTAINERS])
def test_every_container_a_platform_sends_transcribes(
    stt: SpeechToText, tmp_path: Path, name: str, options: list[str], mime: str | None
) -> None:
    out = tmp_path / "note"
    ffmpeg("-i", str(LIBRI_CLIP), *options, str(out))
    result = stt.transcribe(out.read_bytes(), mime)
    assert wer(LIBRI_TEXT, result.text) <= 0.2, f"{name}: {result.text}"
    assert result.language == "en"
    assert result.duration_s == pytest.approx(5.0, abs=1.5)


@slow
@needs_ffmpeg
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
def test_a_mandarin_voice_note_is_heard_as_chinese(stt: SpeechToText, tmp_path: Path) -> None:
    # espeak-ng's Mandarin is robotic and whisper-base hears only some of its sentences as Chinese (others as Thai
    # or English); this one ("I want a pair of running shoes, not too expensive") it does.
    wav = tmp_path / "zh.wav"
    text = "wo3 yao4 yi4 shuang1 pao3 bu4 xie2, jia4 ge2 bu2 yao4 tai4 gui4."
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "140", "-w", str(wav), text], check=True, capture_output=True)
    result = stt.transcribe(wav.read_bytes(), "audio/wav")
    assert result.language == "zh"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.text), result.text


# -- the fitted encoder window --------------------------------------------------------------------------------------


def _window_features(seconds: float, silence_at_end: float = 0.0) -> np.ndarray:
    """The log-mel window faster-whisper hands the encoder for this much audio (noise, then digital silence)."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    rng = np.random.default_rng(7)
    audio = np.concatenate([rng.normal(0, 0.1, int(seconds * 16_000)), np.zeros(int(silence_at_end * 16_000))])
    return pad_or_trim(FeatureExtractor()(audio.astype(np.float32))[..., :-1])


def test_the_encoder_window_is_cut_to_the_audio_plus_two_seconds() -> None:
    assert _window_features(10).shape[-1] == 3000  # what Whisper would encode
    assert fitted_window(_window_features(10)).shape[-1] == 1200
    assert fitted_window(_window_features(2)).shape[-1] == 500  # never under 5 s
    assert fitted_window(_window_features(29)).shape[-1] == 3000  # a full window stays whole
    # digital silence is audio (the speaker paused), only faster-whisper's zero padding is cut
    assert fitted_window(_window_features(6, silence_at_end=4)).shape[-1] == 1200
    assert fitted_window(_window_features(7.005)).shape[-1] % 2 == 0  # the encoder's convolution has stride 2


@slow
@needs_ffmpeg
@pytest.mark.skipif(not (LJ / "metadata.csv").is_file(), reason=f"shared LJ Speech clips absent at {LJ}")
def test_a_note_longer_than_one_window_is_heard_to_its_last_words(storage: Path) -> None:
    # 5 LJ Speech sentences, 34 s: a full first window, then a short one that the fitted window cuts
    rows = [line.split("|") for line in (LJ / "metadata.csv").read_text(encoding="utf-8").splitlines()[:5]]
    inputs = [arg for row in rows for arg in ("-i", str(LJ / f"{row[0]}.wav"))]
    joined = "".join(f"[{i}:a]" for i in range(len(rows))) + f"concat=n={len(rows)}:v=0:a=1"
    note = ffmpeg(*inputs, "-filter_complex", joined, "-f", "wav", "-")
    fitted = SpeechToText.shared(Config(storage={"dir": storage}, speech={"encoder_window": "fit"}))
    result = fitted.transcribe(note, "audio/wav")
    assert result.duration_s > 30
    assert wer(" ".join(row[-1] for row in rows), result.text) < 0.1, result.text
    last_words = normalise(rows[-1][-1]).split()[-4:]
    assert normalise(result.text).split()[-4:] == last_words, result.text


# -- bad input ------------------------------------------------------------------------------------------------------


def test_empty_voice_note_is_refused(stt: SpeechToText) -> None:
    assert "empty" in str(refused(stt, b"", "audio/ogg"))
    assert refused(stt, b"\x00" * 4096, "audio/ogg").reason == "empty"


@needs_ffmpeg
def test_pure_silence_is_heard_as_nothing(stt: SpeechToText) -> None:
    silence = ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:a", "libopus", "-f", "ogg", "-")
    error = refused(stt, silence, "audio/ogg")
    assert str(error).startswith("I couldn't hear anything in that voice note")
    assert error.reason == "silence"


@slow
@needs_ffmpeg
def test_faint_room_noise_without_speech_is_heard_as_nothing(stt: SpeechToText) -> None:
    # Loud enough to pass the digital-silence check, so the VAD must decide; whisper alone would invent words.
    noise = ffmpeg("-f", "lavfi", "-i", "anoisesrc=r=16000:a=0.004:c=pink:d=5", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", "-")
    error = refused(stt, noise, "audio/wav")
    assert error.reason == "silence", error


@needs_ffmpeg
def test_a_twenty_minute_voice_note_is_refused_from_its_header(stt: SpeechToText, monkeypatch: pytest.MonkeyPatch) -> None:
    long_note = ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "1200", "-c:a", "libopus", "-b:a", "6k", "-f", "ogg", "-")

    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("a 20-minute note was decoded")

    monkeypatch.setattr("bot.voice.speech.decode", must_not_decode)
    error = refused(stt, long_note, "audio/ogg")
    assert error.reason == "too_long"
    assert "20 minutes" in str(error) and "2 minutes" in str(error)


@needs_ffmpeg
def test_a_long_stream_without_a_duration_header_is_cut_off_and_refused(storage: Path) -> None:
    # WebM written to a pipe (as browsers record) carries no duration: the decoder stops just past the limit.
    stt = SpeechToText.shared(Config(storage={"dir": storage}, speech={"max_seconds": 15}))
    webm = ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=40", "-c:a", "libopus", "-b:a", "16k", "-f", "webm", "-")
    error = refused(stt, webm, "audio/webm")
    assert error.reason == "too_long"
    assert "15 seconds" in str(error)


@needs_ffmpeg
def test_bytes_that_are_not_audio_are_refused(stt: SpeechToText) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(png, format="PNG")
    for data, mime in [(b"show me a black backpack under forty dollars\n" * 40, "audio/ogg"), (png.getvalue(), "audio/mpeg")]:
        error = refused(stt, data, mime)
        assert error.reason == "not_audio"
        assert "doesn't look like audio" in str(error)


@needs_ffmpeg
def test_an_unsupported_codec_is_refused_with_the_formats_we_take(stt: SpeechToText) -> None:
    samples = b"\x10\x20" * 16000
    fmt = struct.pack("<HHIIHH", 0x7777, 1, 16000, 32000, 2, 16)  # a WAV whose codec tag no decoder knows
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    error = refused(stt, b"RIFF" + struct.pack("<I", len(body)) + body, "audio/wav")
    assert error.reason == "unsupported_codec"
    assert "can't play" in str(error) and "OGG/Opus" in str(error)


@needs_ffmpeg
@needs_speech_data
def test_a_damaged_voice_note_gets_a_clear_reply(stt: SpeechToText) -> None:
    data = FLEURS_CLIP.read_bytes()
    damaged = data[:200] + bytes((b * 7 + 3) % 256 for b in data[200:4000])
    error = refused(stt, damaged, "audio/ogg")
    assert error.reason == "undecodable"
    assert "damaged" in str(error)


def test_without_ffmpeg_a_voice_note_gets_a_polite_reply(stt: SpeechToText, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pydub.utils.get_prober_name", lambda: "/nonexistent/ffprobe")
    error = refused(stt, b"OggS" + b"\x00" * 100, "audio/ogg")
    assert isinstance(error, SpeechUnavailable)
    assert "ffprobe" in error.detail
    assert "can't listen to voice notes right now" in str(error)


# -- the benchmark command ------------------------------------------------------------------------------------------


@slow
@needs_ffmpeg
@needs_speech_data
def test_eval_voice_prints_wer_per_set_and_rtf_as_json(storage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.evals import voice

    data = tmp_path / "data"
    (data / "speech" / "fleurs").mkdir(parents=True)
    (data / "speech" / "librispeech").mkdir(parents=True)
    shutil.copy(FLEURS_CLIP, data / "speech" / "fleurs")
    shutil.copy(FLEURS_CLIP.with_suffix(".txt"), data / "speech" / "fleurs")
    shutil.copy(LIBRI_CLIP, data / "speech" / "librispeech")
    (data / "speech" / "librispeech" / "transcripts.txt").write_text(f"{LIBRI_CLIP.stem} {LIBRI_TEXT}\n")

    code = voice.run(Config(storage={"dir": storage}), argparse.Namespace(data=data, json=True))
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["wer"]) == {"fleurs", "librispeech", "fleurs+librispeech", "overall"}
    assert report["wer"]["overall"] <= 0.2
    assert report["rtf"] > 0
    assert report["clips"] == {"fleurs": 1, "librispeech": 1}
    assert set(report["wer_harder"]) == {"fleurs+librispeech @ 10 dB SNR", "fleurs+librispeech @ 8 kHz"}
    assert all(0 <= w <= 1 for w in report["wer_harder"].values())
    if shutil.which("espeak-ng"):
        assert set(report["product_terms"]["splits"]) == {"tuning", "held_out"}
        assert report["product_terms"]["splits"]["tuning"]["terms"] > 0


def test_eval_voice_without_data_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.evals import voice

    assert voice.run(Config(storage={"dir": tmp_path}), argparse.Namespace(data=tmp_path, json=True)) == 2
    assert str(tmp_path / "speech") in capsys.readouterr().err


ZH = SPEECH / "zh"


def test_chinese_is_scored_by_character_whatever_the_script_and_digits() -> None:
    from bot.evals.transcript_scoring import normalise_zh

    assert normalise_zh("我要 2 件藍色的衛衣！") == normalise_zh("我要二件蓝色的卫衣")
    errors, chars = word_errors(normalise_zh("我想要一件蓝色卫衣"), normalise_zh("我想要一件红色卫衣"))
    assert (errors, chars) == (1, 9)


@slow
@needs_ffmpeg
@pytest.mark.skipif(not (ZH / "transcripts.tsv").is_file(), reason=f"shared Mandarin clips absent at {ZH}")
def test_eval_voice_reports_the_character_error_rate_of_real_mandarin(
    storage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.evals import voice

    code = voice.run(Config(storage={"dir": storage}), argparse.Namespace(data=SPEECH.parent, json=True, lang="zh"))
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["clips"] == {"zh": 6} and 0 <= report["cer"]["zh"] <= 0.4
    assert all(u["language"] == "zh" for u in report["utterances"])


@slow
@needs_ffmpeg
@pytest.mark.skipif(not (ZH / "transcripts.tsv").is_file(), reason=f"shared Mandarin clips absent at {ZH}")
async def test_a_mandarin_voice_note_is_answered_in_chinese_with_its_transcript(start_service) -> None:  # type: ignore[no-untyped-def]
    from bot.messages import Incoming

    service = await start_service()
    clip = ZH / "BAC009S0764W0121.ogg"
    reply = await service.handle(Incoming(user_id="u1", voice=clip.read_bytes(), voice_mime="audio/ogg"))
    assert reply.language == "zh" and reply.transcript and any("\u4e00" <= ch <= "\u9fff" for ch in reply.transcript)
    assert reply.text.startswith("🎙️ 我听到的是") and reply.error is None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
async def test_a_spoken_request_is_answered_with_the_kind_and_budget_heard(start_service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.evals.spoken_requests import SpokenRequest, speak
    from bot.messages import Incoming

    service = await start_service()  # the bot gives Whisper the shop's words at start
    audio = speak(SpokenRequest("do you have white hoodies for less than 50 dollars", "tuning", ("en-gb", 185, 30)), tmp_path)
    reply = await service.handle(Incoming(user_id="v1", voice=audio.read_bytes(), voice_mime="audio/wav"))
    assert "hoodies" in (reply.transcript or "").lower()
    assert reply.items and all("Hoodies & Sweatshirts" in i.categories[0] and i.price <= 50 for i in reply.items)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt-get install espeak-ng)")
async def test_a_voice_note_after_a_photo_is_a_request_of_its_own(start_service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue 17: a spoken request after a photo starts a new search; it does not narrow the photo's."""
    from bot.evals.spoken_requests import SpokenRequest, speak
    from bot.messages import Incoming
    from recsys.catalogue.items import DEMO_CATALOGUE

    service = await start_service()
    photo = await service.handle(Incoming(user_id="v2", photos=[(DEMO_CATALOGUE.parent / "images" / "mh01-black_main.jpg").read_bytes()]))
    assert photo.items and all("Hoodies" in i.categories[0] for i in photo.items[:2])
    audio = speak(SpokenRequest("show me water bottles", "tuning", ("en-us", 160, 50)), tmp_path)
    reply = await service.handle(Incoming(user_id="v2", voice=audio.read_bytes(), voice_mime="audio/wav"))
    assert "bottle" in (reply.transcript or "").lower()
    assert reply.items and "Bottle" in reply.items[0].name and "look like your photo" not in reply.text
    assert not any("Hoodies" in i.categories[0] for i in reply.items), "nothing of the photo's search is kept"
