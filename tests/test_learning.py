"""The learning loop: durable feedback, instant profile updates, gated and scheduled retraining, erasure, the stats chart."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from PIL import Image

from adapters.cli import new_bot
from adapters.config import Config
from bot.config import TrainingConfig
from bot.learning.demo_history import demo_history, seed_demo_history
from bot.learning.feedback import FeedbackLog, UserKey
from bot.learning.registry import ModelRegistry
from bot.learning.scheduler import TrainingScheduler
from bot.learning.training import Trainer, build_history, leave_last_out
from bot.messages import Command, Feedback, Incoming
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.catalogue.loading import load_catalogue
from recsys.cf.scorer import CFScorer
from tests.conftest import make_config

REPO = Path(__file__).resolve().parent.parent
ITEMS = {i.id: i for i in load_catalogue(DEMO_CATALOGUE).items}


def seeded_log(tmp_path: Path) -> FeedbackLog:
    log = FeedbackLog(f"sqlite:///{tmp_path / 'events.sqlite'}")
    seed_demo_history(log, ITEMS.values())
    return log


def trainer(log: FeedbackLog, tmp_path: Path, make_scorer=CFScorer, **training) -> Trainer:  # type: ignore[no-untyped-def]
    return Trainer(log, TrainingConfig(**training), ModelRegistry(tmp_path / "models"), lambda: set(ITEMS), make_scorer)


class ShuffledScorer(CFScorer):
    """A deliberately worse model: trains normally, then ranks items at random."""

    def scores(self, user: str, item_ids: list[str]) -> np.ndarray:
        return np.random.default_rng(abs(hash(user)) % 2**32).random(len(item_ids)).astype(np.float32)


# -- the event log and seed history ---------------------------------------------------------------------------------------------
def test_demo_history_names_only_catalogue_items_and_stays_out_of_stats(tmp_path: Path) -> None:
    rows = demo_history(ITEMS.values())
    assert {i for _, i, _ in rows} <= set(ITEMS)
    kinds = {e for _, _, e in rows}
    assert kinds == {"like", "dislike", "more_like_this"}
    # Markus gave the MJ01 jacket 5 stars: one of its colours gets his like
    assert any(u.startswith("review:") and e == "like" and ITEMS[i].product_id == "MJ01" and "Markus" in u for u, i, e in rows)
    log = seeded_log(tmp_path)
    assert seed_demo_history(log, ITEMS.values()) == 0, "seeding twice adds nothing"
    log.record(UserKey("terminal", "ann"), "like", ["MH01-Black"])
    stats = log.stats()
    assert (stats.users, stats.likes, stats.dislikes) == (1, 1, 0)
    assert [(likes, dislikes) for _, likes, dislikes in log.reactions_per_day()] == [(1, 0)]


def test_training_weights_decay_dislikes_cancel_and_unknown_items_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    from bot.learning.feedback import Event

    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    old = now - dt.timedelta(days=30)
    events = [
        Event(1, "t:a", "X", "like", old),  # one half-life ago
        Event(2, "t:a", "Y", "purchase", now),
        Event(3, "t:a", "Z", "like", now),
        Event(4, "t:a", "Z", "dislike", now),  # changed her mind
        Event(5, "t:a", "GHOST", "like", now),
    ]
    config = TrainingConfig(half_life_days=30)
    history = build_history(events, config, known={"X", "Y", "Z"}, now=now)
    assert history.weights == {("t:a", "X"): pytest.approx(2.0), ("t:a", "Y"): pytest.approx(8.0)}
    assert history.ignored == 1 and "ignored 1 events on items not in the catalogue" in caplog.text
    assert leave_last_out(history, min_history=2) == {"t:a": "Y"}
    assert leave_last_out(history, min_history=2, newer_than=2) == {}


DURABILITY_WRITER = textwrap.dedent(
    """
    import sys
    from bot.learning.feedback import FeedbackLog, UserKey
    log = FeedbackLog(sys.argv[1])
    n = 0
    while True:
        log.record(UserKey("telegram", "u%d" % (n % 7)), "like", ["item-%d" % n])
        print(n, flush=True)  # acknowledged only after the commit returned
        n += 1
    """
)


def test_every_acknowledged_event_survives_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    proc = subprocess.Popen([sys.executable, "-c", DURABILITY_WRITER, url], stdout=subprocess.PIPE, text=True, cwd=REPO)
    acknowledged: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= 200:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stored = {e.item_id for e in FeedbackLog(url).training_events(["like"])}
    missing = [n for n in acknowledged if f"item-{n}" not in stored]
    assert not missing, f"acknowledged but lost after kill -9: {missing[:10]}"


# -- the gate ---------------------------------------------------------------------------------------------------------------------
def add_shoppers(log: FeedbackLog, n: int, basket: list[str], name: str) -> None:
    rng = np.random.default_rng(3)
    for s in range(n):
        for item in rng.permutation(basket):
            log.record(UserKey("telegram", f"{name}{s}"), "like", [str(item)])


def test_a_worse_model_is_refused_and_a_better_one_swapped_in(tmp_path: Path) -> None:
    log = seeded_log(tmp_path)
    first, model = trainer(log, tmp_path).retrain()
    assert first.swapped and first.version == "v0001" and model is not None and first.candidate["ndcg@10"] > 0

    # new shoppers buy what the store links together: the serving model already knows those pairs
    baskets: dict[str, list[str]] = {}
    for user, item, _ in demo_history(ITEMS.values()):
        if user.startswith("related_configurable:"):
            baskets.setdefault(user, []).append(item)
    basket = next(b for b in baskets.values() if len(b) >= 5)[:5]
    add_shoppers(log, 12, basket, "n")
    worse, model = trainer(log, tmp_path, make_scorer=ShuffledScorer).retrain()
    assert not worse.swapped and model is None
    assert worse.version == "v0001" and worse.eval_users == 12
    assert worse.candidate["ndcg@10"] < worse.serving["ndcg@10"], worse.summary()
    assert "below serving" in worse.reason
    registry = ModelRegistry(tmp_path / "models")
    assert [v.name for v in registry.versions()] == ["v0001"]

    better, model = trainer(log, tmp_path).retrain()
    assert better.swapped and better.version == "v0002" and model is not None, better.summary()
    assert better.candidate["ndcg@10"] >= better.serving["ndcg@10"]
    loaded, version = registry.load_latest()
    assert version.name == "v0002" and version.info["serving_metrics"] == better.serving
    assert "telegram:n0" in loaded.users
    decisions = [json.loads(line) for line in (tmp_path / "models" / "decisions.jsonl").read_text().splitlines()]
    assert [d["swapped"] for d in decisions] == [True, False, True]


def test_an_empty_log_or_a_damaged_version_keeps_the_last_good_model(tmp_path: Path) -> None:
    empty = FeedbackLog(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result, model = trainer(empty, tmp_path).retrain()
    assert not result.swapped and model is None and "nothing to learn" in result.reason

    log = seeded_log(tmp_path)
    trainer(log, tmp_path).retrain()
    add_shoppers(log, 6, ["MH01-Black", "MH02-Black", "MH03-Black", "MH04-Green"], "d")
    assert trainer(log, tmp_path, min_improvement=-1.0).retrain()[0].version == "v0002"
    (tmp_path / "models" / "v0002" / "model.npz").write_bytes(b"not a model")  # e.g. a disk fault
    scorer, version = ModelRegistry(tmp_path / "models").load_latest()
    assert version.name == "v0001" and scorer.trained


# -- the service: instant update, erasure, admin commands, the schedule ------------------------------------------------------------
def ids(reply) -> list[str]:  # type: ignore[no-untyped-def]
    return [card.id for card in reply.items]


async def test_a_like_changes_the_very_next_recommendation(tmp_path: Path, indexed_chroma: Path) -> None:
    # the collaborative part alone: likes do not pull results towards similar text here
    config = make_config(tmp_path / "data", indexed_chroma, recommend={"weight_feedback": 0.0, "weight_cf": 1.0})
    service = new_bot(config)
    await service.start(progress=False)
    try:
        user = UserKey("terminal", "newbie")
        probe = sorted(service.recommender.store.all_items())
        popularity = service.recommender.scorer.scores("seed:nobody", probe)
        assert np.allclose(service.recommender.scorer.scores(str(user), probe), popularity), "new users get popularity"
        ask = Incoming(user_id="newbie", text="a hoodie")
        before = ids(await service.handle(ask))
        reply = await service.handle(Incoming(user_id="newbie", feedback=Feedback("like", "MJ01-Orange")))
        assert reply.error is None
        after_scores = service.recommender.scorer.scores(str(user), probe)
        assert not np.allclose(after_scores, popularity)
        after = ids(await service.handle(ask))
        assert after != before, "the next reply reflects the like"
    finally:
        await service.close()


async def test_forget_erases_events_model_rows_and_stored_versions(tmp_path: Path, indexed_chroma: Path) -> None:
    config = make_config(
        tmp_path / "data", indexed_chroma, telegram={"admins": ["9"]}, training={"min_eval_users": 1, "min_improvement": -1.0}
    )
    service = new_bot(config)
    await service.start(progress=False)
    try:
        for item in ("MH01-Black", "MJ01-Orange", "WS03-Blue"):
            await service.handle(Incoming(user_id="7", platform="telegram", feedback=Feedback("like", item)))
        retrain = await service.handle(Incoming(user_id="9", platform="telegram", command=Command("retrain")))
        assert "Retrained" in retrain.text and "swapped in v0002" in retrain.text, retrain.text
        assert "telegram:7" in ModelRegistry(config.storage.root / "models" / "cf").load_latest()[0].users

        stats = await service.handle(Incoming(user_id="9", platform="telegram", command=Command("stats")))
        assert stats.text.startswith("Users: 1") and "Likes: 3" in stats.text and "Model: v0002" in stats.text
        assert stats.attachment is not None and stats.attachment.startswith(b"\x89PNG\r\n\x1a\n")
        assert stats.attachment_name == "stats.png"
        with Image.open(io.BytesIO(stats.attachment)) as chart:
            chart.verify()
            assert chart.size[0] > 400

        gone = await service.handle(Incoming(user_id="7", platform="telegram", command=Command("forget", "yes")))
        assert "3 events erased" in gone.text
        assert service.log.reactions(UserKey("telegram", "7")) == ([], [])
        assert "telegram:7" not in service.recommender.scorer.users
        for version in ModelRegistry(config.storage.root / "models" / "cf").versions():
            assert "telegram:7" not in CFScorer.load(version.path).users
            assert "telegram:7" not in (version.path / "ids.json").read_text()
    finally:
        await service.close()


async def test_the_schedule_follows_config_and_a_failing_job_leaves_the_bot_serving(
    tmp_path: Path, indexed_chroma: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ticks: list[int] = []

    async def job() -> None:
        ticks.append(1)

    every = TrainingScheduler(TrainingConfig(interval_minutes=15), job)
    every.start()
    try:
        assert isinstance(every.job.trigger, IntervalTrigger) and every.job.trigger.interval == dt.timedelta(minutes=15)
    finally:
        every.stop()

    config = make_config(tmp_path / "data", indexed_chroma, training={"schedule_cron": "30 2 * * *"})
    service = new_bot(config)
    await service.start(progress=False)
    try:
        job_ = service.scheduler.job
        assert isinstance(job_.trigger, CronTrigger)
        fields = {f.name: str(f) for f in job_.trigger.fields}
        assert (fields["hour"], fields["minute"]) == ("2", "30")
        assert job_.next_run_time.hour == 2 and job_.next_run_time.minute == 30

        serving = service.recommender.scorer

        def broken() -> None:
            raise RuntimeError("disk on fire")

        service.cf.trainer.retrain = broken  # type: ignore[method-assign]
        await job_.func()  # what APScheduler calls at 02:30
        assert "scheduled retraining failed" in caplog.text and "disk on fire" in caplog.text
        assert service.recommender.scorer is serving and service.serving_version == "v0001"
        reply = await service.handle(Incoming(user_id="u", text="a bag for the gym"))
        assert reply.error is None and reply.items
    finally:
        await service.close()
    assert service.scheduler is None


def test_a_bad_crontab_names_the_key(tmp_path: Path) -> None:
    from adapters.config import load_config
    from bot.config import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text("training:\n  schedule_cron: '61 * * * *'\n")
    with pytest.raises(ConfigError, match=r"training\.schedule_cron"):
        load_config(path)


def test_recbot_train_and_model_on_a_fresh_machine(tmp_path: Path) -> None:
    env = {**os.environ, "RECBOT_STORAGE__DIR": str(tmp_path / "data")}

    def recbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "adapters.cli", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)

    assert recbot("model").returncode == 1
    first = recbot("train")
    assert first.returncode == 0 and first.stdout.startswith("swapped in v0001: first model"), first.stderr
    assert "candidate: recall@10" in first.stdout
    again = json.loads(recbot("train", "--json").stdout)
    assert again["swapped"] is False and again["version"] == "v0001" and "nothing new" in again["reason"]
    shown = recbot("model")
    assert shown.returncode == 0 and shown.stdout.startswith("v0001") and "ndcg@10" in shown.stdout
    assert Config().training.seed_demo


# -- PostgreSQL by URL (the server: tests/conftest.py) -------------------------------------------------------------------
def test_the_log_and_the_training_path_work_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    log = FeedbackLog(postgres_url)
    assert seed_demo_history(log, ITEMS.values()) > 1000
    who = UserKey("telegram", "42")
    log.record(who, "like", ["MH01-Black"])
    log.record(who, "purchase", ["WS03-Blue"])
    log.record(who, "dislike", ["MJ01-Orange"])
    assert log.reactions(who) == (["MH01-Black"], ["MJ01-Orange"])
    stats = log.stats()
    assert (stats.users, stats.likes, stats.dislikes) == (1, 1, 1)
    assert [(likes, dislikes) for _, likes, dislikes in log.reactions_per_day()] == [(1, 1)]
    assert [e.item_id for e in log.training_events(["like", "purchase"], user=who)] == ["MH01-Black", "WS03-Blue"]
    result, model = Trainer(log, TrainingConfig(), ModelRegistry(tmp_path / "models"), lambda: set(ITEMS)).retrain()
    assert result.swapped and model is not None and "telegram:42" in model.users
    assert log.forget(who) == 3 and log.reactions(who) == ([], [])
    FeedbackLog(postgres_url)  # reopening an existing log is fine
