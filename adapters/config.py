"""The whole configuration: the bot's sections (bot/config.py) plus one section per platform adapter.

This is the composition root's view of config.yaml; bot/ never reads a platform's section.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

import limits
from pydantic import Field, field_validator

from bot.config import BotConfig, Section
from bot.config import load_config as _load


class TelegramWebhookConfig(Section):
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    path: str = "/telegram"
    url: str | None = Field(None, description="public URL Telegram posts to; required in webhook mode")


class TelegramConfig(Section):
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admins: list[str] = Field(default_factory=list, description="Telegram user ids allowed /stats and /retrain")
    webhook: TelegramWebhookConfig = TelegramWebhookConfig()


class SlackConfig(Section):
    mode: Literal["socket", "http"] = "socket"
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    path: str = "/slack/events"
    api_base_url: str = "https://slack.com/api/"
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+",
        description="https base URL at which Slack reaches this bot's host:port; catalogue photos that are local files "
        "are then served at <public_url>/images/<item id> and shown on the cards",
    )
    admins: list[str] = Field(default_factory=list, description="Slack user ids allowed stats and retrain")


class WebConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    trust_user_field: bool = Field(
        False,
        description="identify the shopper by the `user` field of an API request instead of the signed cookie; only for "
        "integrations behind their own authentication",
    )
    max_upload_mb: int = Field(20, ge=1, le=200, description="largest photo or voice note accepted, in MB")
    rate_limit: str = Field("20/minute", description="messages and button presses per shopper, e.g. 20/minute, 5 per 10 seconds")
    cookie_secure: bool = Field(False, description="mark the session cookie Secure (set when served over https)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of the proxy in front (e.g. 10.0.0.0/8): the client's address then comes from "
        "its X-Forwarded-For, and only the proxy may connect",
    )
    admins: list[str] = Field(default_factory=list, description="web user ids allowed /stats and /retrain")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network") from exc
        return value

    @field_validator("rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as 20/minute or 5 per 10 seconds") from exc
        return value


class Config(BotConfig):
    """Every section of config.yaml; each key is overridable as RECBOT_<SECTION>__<KEY>."""

    telegram: TelegramConfig = TelegramConfig()
    slack: SlackConfig = SlackConfig()
    web: WebConfig = WebConfig()

    def admins(self) -> dict[str, set[str]]:
        """User ids allowed admin commands, per platform (`telegram.admins`, `slack.admins`, `web.admins`)."""
        return {
            "telegram": {str(a) for a in self.telegram.admins},
            "slack": {str(a) for a in self.slack.admins},
            "web": {str(a) for a in self.web.admins},
        }


def load_config(path: Path | None = None) -> Config:
    """config.yaml (or `path`) with the environment applied, validated; ConfigError names what is wrong."""
    return _load(Config, path)
