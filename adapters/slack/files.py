"""Files people share with the bot on Slack: images become photos, the first audio clip a voice note. Downloads go
only to Slack's own hosts (they carry the bot token) and stop at MAX_FILE_BYTES."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Incoming

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 25 * 1024 * 1024
AUDIO_FILETYPES = {"m4a", "mp3", "ogg", "oga", "opus", "wav", "flac", "aac", "amr"}


class FileProblem(Exception):
    """A shared file we cannot use: `code` says why, `data` the details a message quotes (`Language.file_problem`)."""

    def __init__(self, code: str, **data: Any) -> None:
        super().__init__(code, data)
        self.code = code
        self.data = data


def file_kind(file: dict[str, Any]) -> str | None:
    """ "photo", "voice" or None for a Slack file object."""
    mime = (file.get("mimetype") or "").lower()
    filetype = (file.get("filetype") or "").lower()
    if mime.startswith("image/"):
        return "photo"
    if mime.startswith("audio/") or file.get("subtype") == "slack_audio" or filetype in AUDIO_FILETYPES:
        return "voice"
    return None


_AUDIO_MIMES = {"m4a": "audio/mp4", "mp4": "audio/mp4", "webm": "audio/webm", "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg"}


def voice_mime(file: dict[str, Any]) -> str:
    """An audio MIME type for a clip; Slack labels some clips video/* (e.g. a webm recorded in the browser)."""
    mime = (file.get("mimetype") or "").lower()
    if mime.startswith("audio/"):
        return mime
    filetype = (file.get("filetype") or "").lower()
    return _AUDIO_MIMES.get(filetype, f"audio/{filetype}" if filetype else "application/octet-stream")


async def attach_files(incoming: Incoming, files: list[dict[str, Any]], client: AsyncWebClient) -> None:
    """Download shared images (→ photos) and the first audio clip (→ voice) into `incoming`."""
    unusable: list[str] = []
    for file in files:
        if not isinstance(file, dict) or not isinstance(file.get("id"), str):
            raise FileProblem("file_info_failed")  # a file entry Slack would never send: nothing to fetch
        if file.get("file_access") == "check_file_info" or not file.get("url_private"):
            try:
                file = (await client.files_info(file=file["id"]))["file"]
            except SlackApiError as exc:
                raise FileProblem("file_info_failed") from exc
        kind = file_kind(file)
        if kind is None or (kind == "voice" and incoming.voice is not None):
            unusable.append(file.get("name") or file.get("filetype") or "file")
            continue
        data = await download(file, client)
        if kind == "photo":
            incoming.photos.append(data)
        else:
            incoming.voice, incoming.voice_mime = data, voice_mime(file)
    if unusable and not incoming.photos and incoming.voice is None and not incoming.text:
        raise FileProblem("unsupported_file", names=unusable)


async def download(file: dict[str, Any], client: AsyncWebClient) -> bytes:
    """GET url_private with the bot token (only to Slack's own hosts), refusing anything over MAX_FILE_BYTES."""
    size = int(file.get("size") or 0)
    if size > MAX_FILE_BYTES:
        raise FileProblem("file_too_large", megabytes=size // (1024 * 1024), limit_mb=MAX_FILE_BYTES // (1024 * 1024))
    url = file.get("url_private_download") or file.get("url_private") or ""
    if not _slack_host(url, client.base_url):
        log.warning("not sending the bot token to %s", urlparse(url).hostname)
        raise FileProblem("download_failed")
    headers = {"Authorization": f"Bearer {client.token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.get(url, headers=headers, allow_redirects=True) as response,
        ):
            if response.status != 200:
                raise FileProblem("download_failed", status=response.status)
            if response.content_type == "text/html":
                # Slack answers a missing files:read scope or a bad token with its sign-in page.
                log.error("Slack sent a web page instead of %s: does the app have the files:read scope?", file.get("id"))
                raise FileProblem("download_forbidden")
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_FILE_BYTES:
                    raise FileProblem("file_too_large", limit_mb=MAX_FILE_BYTES // (1024 * 1024))
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FileProblem("download_retry") from exc


def _slack_host(url: str, api_base_url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    api_host = (urlparse(api_base_url).hostname or "").lower()
    return bool(host) and (host == api_host or host == "slack.com" or host.endswith(".slack.com"))
