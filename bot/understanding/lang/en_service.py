"""English sentences of the service around the search: reactions to feedback, admin figures, photo, voice and file
problems, and the words adapters put on buttons and menus. `English` inherits them; another language overrides them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ServiceWords:
    """Mixed into `English`, whose `say` and `color_name` it uses."""

    # -- the service's own answers ---------------------------------------------------------------------------------
    def reaction(self, action: str, name: str, color: str | None) -> str:
        """The acknowledgement of a 👍 (action "like") or a 👎 ("dislike")."""
        return self.say(f"reaction.{action}", name=name, color=self.color_name(color))

    def unknown_command(self, command: str) -> str:
        return f"Unknown command /{command}. {self.say('help')}"

    def stats(self, users: int, messages: int, likes: int, dislikes: int, top: Sequence[tuple[str, int]], model: str | None) -> str:
        liked = ", ".join(f"{name} ({n})" for name, n in top) or "none yet"
        return (
            f"Users: {users}\nMessages: {messages}\nLikes: {likes}  Dislikes: {dislikes}\nTop liked: {liked}\n"
            f"Model: {model or 'popularity only'}"
        )

    # -- photos and voice notes -------------------------------------------------------------------------------------
    def image_problem(self, code: str, data: Mapping[str, Any]) -> str:
        return self.say(f"image.{code}", **data) if f"image.{code}" in self.sentences else self.say("image.other")

    def duration(self, seconds: float) -> str:
        minutes, secs = divmod(round(seconds), 60)
        parts = []
        if minutes:
            parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
        if secs or not minutes:
            parts.append(f"{secs} second{'s' if secs != 1 else ''}")
        return " ".join(parts)

    def speech_problem(self, code: str, data: Mapping[str, Any]) -> str:
        formats = "OGG/Opus, M4A/AAC, WebM, MP3, WAV or FLAC"
        match code:
            case "too_large":
                return self.say("speech.too_large", megabytes=data["megabytes"], limit=self.duration(data["limit_s"]))
            case "too_long":
                heard = f"is {self.duration(data['seconds'])} long" if data.get("seconds") else "is too long"
                return self.say("speech.too_long", heard=heard, limit=self.duration(data["limit_s"]))
            case "unsupported_codec":
                what = f"audio encoded as “{data['codec']}”" if data.get("codec") else "that kind of audio"
                return self.say("speech.unsupported_codec", what=what, formats=formats)
        key = f"speech.{code}" if f"speech.{code}" in self.sentences else "speech.other"
        return self.say(key, formats=formats)

    # -- platform words (adapters render them) ------------------------------------------------------------------------
    def button(self, action: str, pressed: bool = False) -> str:
        labels = {"like": ("👍", "👍 Liked"), "dislike": ("👎", "👎 Noted"), "more_like_this": ("More like this", "More like this ✓")}
        return labels[action][pressed]

    def commands(self, admin: bool = False) -> list[tuple[str, str]]:
        """The command menu: (command, what it does)."""
        public = [
            ("start", "What I can do"),
            ("help", "How to ask for things"),
            ("reset", "Start a new conversation (keeps your likes)"),
            ("profile", "What you've told me about yourself"),
            ("link", "Share your profile with your account on another app"),
            ("forget", "Erase our conversation and your feedback"),
            ("like", "Like an item: /like ID"),
            ("dislike", "Dislike an item: /dislike ID"),
        ]
        admins = [("stats", "Users, messages, likes and top items (admins)"), ("retrain", "Retrain the recommender from feedback (admins)")]
        return public + admins if admin else public

    def file_problem(self, code: str, data: Mapping[str, Any]) -> str:
        """A shared file the bot cannot use."""
        match code:
            case "file_info_failed":
                return "I couldn't open that file (Slack would not tell me about it)."
            case "unsupported_file":
                return f"I can look at photos and listen to audio clips, but not at {', '.join(data['names'])}."
            case "file_too_large":
                size = f" ({data['megabytes']} MB)" if data.get("megabytes") is not None else ""
                return f"That file is too large{size}; I read files up to {data['limit_mb']} MB."
            case "download_forbidden":
                return "I couldn't download that file (the app may lack the files:read permission)."
            case "download_retry":
                return "I couldn't download that file; please try again."
        status = f" (Slack answered {data['status']})" if data.get("status") else ""
        return f"I couldn't download that file{status}."

    def usage(self, command: str) -> str:
        return f"Usage: /{command} PATH" + (" [caption]" if command == "photo" else "")
