"""Configuration: file, environment overrides, and start-up errors that name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from adapters.config import Config, load_config
from bot.config import ConfigError

REPO = Path(__file__).resolve().parent.parent


def test_the_commented_config_yaml_is_exactly_the_defaults() -> None:
    from_file = load_config(REPO / "config.yaml")
    assert from_file.model_dump() == Config().model_dump()


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"llm": {"provider": "rules", "model": "m1"}, "storage": {"dir": "/tmp/x"}}))
    monkeypatch.setenv("RECBOT_LLM__PROVIDER", "openai")
    monkeypatch.setenv("RECBOT_STORAGE__DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECBOT_TELEGRAM__BASE_URL", "http://127.0.0.1:9/bot")
    config = load_config(path)
    assert config.llm.provider == "openai" and config.llm.model == "m1"  # a partial override keeps the file's other keys
    assert config.storage.root == tmp_path / "data"
    assert config.telegram.base_url == "http://127.0.0.1:9/bot"


@pytest.mark.parametrize(
    ("content", "env", "message"),
    [
        ({"llm": {"provder": "rules"}}, {}, "llm.provder: unknown key"),
        ({"llm": {"provider": "gpt"}}, {}, "llm.provider"),
        ({"recommend": {"k": 0}}, {}, "recommend.k"),
        ({"nonsense": {}}, {}, "nonsense: unknown key"),
        ({}, {"RECBOT_LLM__PROVIDER": "nope"}, "RECBOT_LLM__PROVIDER"),
        ({}, {"RECBOT_LMM__PROVIDER": "rules"}, "RECBOT_LMM__PROVIDER: unknown config section 'lmm'"),
    ],
)
def test_a_wrong_key_or_value_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: dict, env: dict, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(content))
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_the_cli_stops_with_the_message_and_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("recommend:\n  k: many\n")
    proc = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--config", str(path), "chat"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "recommend.k" in proc.stderr and "Traceback" not in proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--config", str(tmp_path / "nope.yaml"), "chat"], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_openai_without_a_key_is_a_clear_start_up_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.models.providers import make_chat_model
    from bot.understanding.vocabulary import Vocabulary

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        make_chat_model(Config(llm={"provider": "openai"}).llm, Vocabulary([], []), set)
