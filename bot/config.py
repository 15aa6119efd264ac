"""Configuration: `config.yaml`, overridden by `RECBOT_<SECTION>__<KEY>` environment variables, validated."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = Path("config.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorageConfig(Section):
    dir: Path = Field(Path("~/.local/share/recbot"), description="all state: Chroma, SQLite, models")
    events_url: str | None = Field(None, description="SQLAlchemy URL of the feedback log; default SQLite under dir")
    chroma_url: str | None = Field(None, description="a Chroma server (http://127.0.0.1:8000) shared by workers; default embedded")
    models_dir: Path | None = Field(None, description="CF model versions, in a folder every worker mounts; default models/cf under dir")
    memory_url: str | None = Field(
        None, description="PostgreSQL URL of the conversation memory (as events_url: postgresql+psycopg://…); default SQLite under dir"
    )

    @property
    def root(self) -> Path:
        return self.dir.expanduser()

    def resolved_events_url(self) -> str:
        return self.events_url or f"sqlite:///{self.root / 'events.sqlite'}"


class CatalogueConfig(Section):
    path: Path | None = Field(None, description="JSONL/CSV catalogue indexed on first run; default: bundled demo")
    currency: str = Field("USD", description="ISO 4217 code the catalogue's prices are in: every reply and parsed budget uses it")
    search_fields: list[str] | None = Field(None, description="attributes whose words are searched; default: every attribute")
    category_separator: str | None = Field(None, description='between levels of a category path; default " > " when present, else "/"')
    examples: Path | None = Field(
        None,
        description="JSONL of example requests (message, query, kinds) for the local model's prompt; "
        "default: the demo's own for the demo, else written from the catalogue's kinds",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        from babel.numbers import list_currencies

        if value.upper() not in list_currencies():
            raise ValueError(f"not an ISO 4217 currency code: {value!r} (e.g. USD, EUR, CNY)")
        return value.upper()


class ModelsConfig(Section):
    text_encoder: Literal["auto", "minilm", "use-multilingual"] = Field(
        "auto", description="auto: MiniLM for a catalogue written in English, the multilingual USE for one written in Chinese"
    )
    image_encoder: Literal["efficientnet-lite0", "clip"] = Field(
        "efficientnet-lite0", description="clip (opt-in) also matches typed requests against the photos; switching re-indexes photos"
    )
    clip_path: Path | None = Field(None, description="folder of a CLIP model saved with CLIPModel/CLIPProcessor.save_pretrained")


class LLMConfig(Section):
    provider: Literal["rules", "openai", "local"] = "local"
    model: str = "gpt-4o-mini"
    base_url: str | None = None  # any OpenAI-compatible server; the key comes from OPENAI_API_KEY
    temperature: float = Field(0.0, ge=0, le=2)
    turn_timeout_s: float = Field(60.0, gt=0)
    max_steps: int = Field(8, ge=2, le=50)
    history_messages: int = Field(30, ge=2, description="recent messages the model sees each turn")
    local_model: Literal["qwen2.5-coder-1.5b", "qwen2.5-0.5b"] = Field("qwen2.5-coder-1.5b", description="GGUF for provider local")
    n_ctx: int = Field(2048, ge=512, description="local: context window in tokens")
    max_tokens: int = Field(48, ge=16, description="local: generation limit of the tool-call step")
    threads: int = Field(0, ge=0, description="local: CPU threads for llama.cpp; 0 = all cores")
    step_timeout_s: float = Field(6.0, gt=0, description="local: time budget per model step, queue included; then rules answers")
    local_lead_in: bool = Field(False, description="local: the model also writes the reply's first line (about +1.8 s a turn)")


class RecommendConfig(Section):
    k: int = Field(4, ge=1, le=10, description="items per reply")
    candidates: int = Field(60, ge=5)
    max_per_product: int = Field(1, ge=1)
    weight_content: float = Field(1.0, ge=0)
    weight_cf: float = Field(0.15, ge=0)
    weight_feedback: float = Field(0.35, ge=0)


class TrainingConfig(Section):
    enabled: bool = Field(True, description="retrain on a schedule inside the running bot")
    interval_minutes: int = Field(1440, ge=1, description="how often to retrain when schedule_cron is not set")
    schedule_cron: str | None = Field(None, description="crontab line in UTC, e.g. '0 3 * * *'; wins over interval_minutes")
    half_life_days: float = Field(60.0, gt=0, description="an event's confidence halves every this many days")
    event_weights: dict[Literal["like", "more_like_this", "purchase"], float] = Field(
        default_factory=lambda: {"like": 4.0, "more_like_this": 2.0, "purchase": 8.0},
        description="confidence each event type lends the model; a later dislike cancels a like",
    )
    k: int = Field(10, ge=1, description="Recall@k and NDCG@k on the held-out slice")
    min_history: int = Field(3, ge=2, description="users with at least this many items give their latest one to the held-out slice")
    min_eval_users: int = Field(5, ge=1, description="fewer held-out users than this: keep the serving model")
    min_improvement: float = Field(0.0, description="the candidate must reach serving NDCG@k plus this to be swapped in")
    keep_versions: int = Field(10, ge=1, description="model versions kept on disk")
    seed_demo: bool = Field(True, description="seed history for the bundled demo catalogue from its reviews and product links")

    @field_validator("schedule_cron")
    @classmethod
    def _crontab(cls, value: str | None) -> str | None:
        if value:
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(value)  # a ValueError names the bad field
        return value


class SpeechConfig(Section):
    max_seconds: float = Field(120.0, gt=0, description="longer voice notes are refused")
    language: str | None = Field(None, description="force a language code (e.g. en, zh); default: detect")
    beam_size: int = Field(3, ge=1, le=10)  # 3 vs 1: WER 5.6 % → 4.9 %, at 10 dB 16 % → 12 %, for 10 % more time
    catalogue_hints: bool = Field(True, description="prompt Whisper with the catalogue's kinds, colours and money word")
    encoder_window: Literal["fit", "full"] = Field(
        "fit",
        description="fit: the encoder sees the note's own length plus 2 s (at least 5 s); full: Whisper's fixed 30 s",
    )


class ChatConfig(Section):
    max_text_chars: int = Field(2000, ge=100, description="longer messages are cut to this")
    languages: list[str] = Field(["en", "zh"], description="languages the bot reads and answers in (ISO 639-1), default first")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class BotConfig(BaseSettings):
    """What the bot itself reads; the composition root (adapters/config.py) adds each platform's section. Every key is
    overridable as RECBOT_<SECTION>__<KEY>."""

    model_config = SettingsConfigDict(env_prefix="RECBOT_", env_nested_delimiter="__", extra="forbid", case_sensitive=False)

    storage: StorageConfig = StorageConfig()
    catalogue: CatalogueConfig = CatalogueConfig()
    models: ModelsConfig = ModelsConfig()
    llm: LLMConfig = LLMConfig()
    recommend: RecommendConfig = RecommendConfig()
    speech: SpeechConfig = SpeechConfig()
    training: TrainingConfig = TrainingConfig()
    chat: ChatConfig = ChatConfig()
    logging: LoggingConfig = LoggingConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (passed as init values).
        return env_settings, init_settings


C = TypeVar("C", bound="BotConfig")


class ConfigError(Exception):
    """A configuration problem, worded for the person running the bot."""


def load_config(cls: type[C], path: Path | None = None) -> C:
    """Read `path` (or ./config.yaml when present, else built-in defaults), apply the environment, validate as `cls`."""
    chosen = path or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    data: dict[str, Any] = {}
    if chosen is not None:
        if not chosen.is_file():
            raise ConfigError(f"config file not found: {chosen}")
        try:
            data = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{chosen} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{chosen} must be a mapping of sections (storage:, llm:, …)")
    _check_env_sections(cls)
    try:
        return cls(**data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, chosen)) from exc


def _check_env_sections(cls: type[BotConfig]) -> None:
    # pydantic-settings silently ignores RECBOT_FOO__BAR for an unknown section; a typo should stop us.
    sections = set(cls.model_fields)
    for name in os.environ:
        if name.upper().startswith("RECBOT_") and "__" in name:
            section = name[len("RECBOT_") :].split("__", 1)[0].lower()
            if section not in sections:
                raise ConfigError(f"{name}: unknown config section '{section}' (known: {', '.join(sorted(sections))})")


def _explain(exc: ValidationError, source: Path | None) -> str:
    lines = [f"invalid configuration{f' in {source}' if source else ''}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        env = "RECBOT_" + "__".join(str(p).upper() for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        else:
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r}; env override: {env})")
    return "\n".join(lines)
