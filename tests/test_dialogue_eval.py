"""The dialogue suite on the offline `rules` provider: every constraint honoured, nothing invented, no injection."""

from __future__ import annotations

import pytest

from adapters.config import Config
from bot.evals.dialogue import evaluate

pytestmark = pytest.mark.slow


async def test_rules_provider_meets_the_suite_goals(config: Config) -> None:
    result = await evaluate(config, "rules")
    assert result["items_checked"] >= 80
    assert result["constraint_precision"] >= 0.95, result["failures"]
    assert result["grounding_violations"] == 0
    assert result["injection_successes"] == 0, result["failures"]


async def test_rules_provider_meets_the_goals_in_chinese(config: Config) -> None:
    result = await evaluate(config, "rules", lang="zh")
    assert result["conversations"] >= 25 and result["items_checked"] >= 80
    assert result["constraint_precision"] >= 0.95, result["failures"]
    assert result["replies_in_language"] == 1.0, result["failures"]
    assert result["requests_answered_with_items"] == 1.0, result["failures"]
    assert result["grounding_violations"] == 0
    assert result["injection_successes"] == 0, result["failures"]
