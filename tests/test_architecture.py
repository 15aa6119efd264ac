"""The house rules: imports run adapters → bot → recsys, each SDK stays in its room, and no module grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOMS = ("adapters", "bot", "recsys")
# which room may import a top-level package; a room not listed may not
ONLY_IN = {
    "telegram": {"adapters"},
    "slack_bolt": {"adapters"},
    "slack_sdk": {"adapters"},
    "aiohttp": {"adapters"},
    "itsdangerous": {"adapters"},
    "limits": {"adapters"},
    "langchain": {"bot"},
    "langchain_core": {"bot"},
    "langchain_openai": {"bot"},
    "langgraph": {"bot"},
    "chromadb": {"recsys"},
    "implicit": {"recsys"},
}
MAY_IMPORT = {"adapters": {"adapters", "bot", "recsys"}, "bot": {"bot", "recsys"}, "recsys": {"recsys"}}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for room in ROOMS for p in (REPO / room).rglob("*.py"))


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_imports_run_one_way_and_sdks_stay_in_their_room(path: Path) -> None:
    room = path.relative_to(REPO).parts[0]
    wrong = [
        f"line {line}: {package}"
        for line, package in imported(path)
        if (package in ROOMS and package not in MAY_IMPORT[room]) or (package in ONLY_IN and room not in ONLY_IN[package])
    ]
    assert not wrong, f"{path.relative_to(REPO)} ({room}/) imports what its room may not: {', '.join(wrong)}"


def test_the_rules_catch_a_wrong_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom bot.service import BotService\n\ndef f():\n    import chromadb\n")
    assert imported(sample) == [(1, "os"), (2, "bot"), (5, "chromadb")]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines: split it by concern"
