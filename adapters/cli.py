"""The `recbot` command line: the composition root. It reads the whole config, builds the bot (`BotService`) and hands
it to the platform adapter asked for; every arrow from here runs adapters → bot → recsys."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from pathlib import Path

from adapters import log_redaction
from adapters.config import Config, load_config
from bot.config import ConfigError
from recsys.catalogue.loading import FORMATS

log = logging.getLogger("recbot")


def _setup_logging(config: Config) -> None:
    log_redaction.install()  # before the first record: tokens and passwords never reach a log line, at any level
    logging.basicConfig(level=config.logging.level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "implicit"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    warnings.filterwarnings("ignore", category=FutureWarning)


def _quiet_terminal(config: Config) -> None:
    """In an interactive chat, log lines would interleave with the conversation: send them to a file."""
    log_file = config.storage.root / "recbot.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in root.handlers:
        existing.setLevel(logging.WARNING)
    root.addHandler(handler)


def new_bot(config: Config):  # type: ignore[no-untyped-def]
    """The bot every platform serves, with each platform's admins from its own config section."""
    from bot.service import BotService

    return BotService(config, admins=config.admins())


def _chat(config: Config, args: argparse.Namespace) -> int:
    from adapters.terminal import run_chat

    if not args.json and sys.stdin.isatty():
        _quiet_terminal(config)

    async def main() -> None:
        service = new_bot(config)
        await service.start(progress=True)
        try:
            await run_chat(service, args.user, args.json)
        finally:
            await service.close()

    asyncio.run(main())
    return 0


def _ingest(config: Config, args: argparse.Namespace) -> int:
    from bot.catalogue_setup import configured_image_encoder, ingest, text_encoder_for
    from recsys.store.chroma import ItemStore

    path = Path(args.path)
    if not path.is_file():
        print(f"recbot ingest: no such file: {path}", file=sys.stderr)
        return 2
    store = ItemStore(config.storage.root / "chroma", config.storage.chroma_url)  # with a server: what every worker reads
    text_encoder = text_encoder_for(config, store) if store.count() else None  # an empty store: chosen by the file
    loaded, report, _ = ingest(path, store, text_encoder, configured_image_encoder(config), config, progress=True, format=args.format)
    for problem in loaded.problems:
        print(f"{path}:{problem}")
    for photo in report.image_problems:
        print(f"{path}: photo left out, item kept: {photo}")
    photos = f"; {len(report.image_problems)} photos could not be read" if report.image_problems else ""
    print(f"ingested {len(loaded.items)} items from {path} ({loaded.format}): {report}; {loaded.summary()}{photos}")
    return 0 if loaded.items or not loaded.problems else 1


def _serve(config: Config, args: argparse.Namespace) -> int:
    if args.platform == "telegram":
        from adapters.telegram.serve import serve
    elif args.platform == "web":
        from adapters.web.serve import serve
    else:
        from adapters.slack.serve import serve
    return serve(config, new_bot(config))


def _catalogue_items(config: Config) -> dict:
    """Items from the indexed store, or from the catalogue file when nothing is indexed yet (no encoders needed)."""
    from recsys.catalogue.items import DEMO_CATALOGUE
    from recsys.catalogue.loading import load_catalogue
    from recsys.store.chroma import ItemStore

    items = ItemStore(config.storage.root / "chroma", config.storage.chroma_url).all_items()
    return items or {i.id: i for i in load_catalogue(config.catalogue.path or DEMO_CATALOGUE).items}


def _train(config: Config, args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from bot.learning.demo_history import seed_for_config
    from bot.learning.feedback import FeedbackLog
    from bot.learning.registry import ModelRegistry
    from bot.learning.training import Trainer

    items = _catalogue_items(config)
    feedback = FeedbackLog(config.storage.resolved_events_url())
    seed_for_config(config, feedback, items.values())
    registry = ModelRegistry(config.storage.root / "models" / "cf", config.training.keep_versions)
    result, _ = Trainer(feedback, config.training, registry, lambda: set(items)).retrain()
    print(json.dumps(asdict(result)) if args.json else result.summary())
    return 0


def _model(config: Config, args: argparse.Namespace) -> int:
    import json

    from bot.learning.registry import ModelRegistry

    versions = ModelRegistry(config.storage.root / "models" / "cf").versions()
    if not versions:
        print("no model trained yet (run `recbot train`, or start the bot)", file=sys.stderr)
        return 1
    current = versions[-1]
    if args.json:
        print(json.dumps(current.info))
    else:
        info = current.info
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in (info.get("metrics") or {}).items()) or "not evaluated"
        print(f"{current.name} ({current.path}), trained {info.get('created')}")
        print(f"{info.get('users')} users × {info.get('items')} items, {info.get('interactions')} interactions")
        print(f"held-out ({info.get('eval_users')} users): {metrics}")
        print(f"earlier versions: {', '.join(v.name for v in versions[:-1]) or 'none'}")
    return 0


def _eval(config: Config, args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(f"bot.evals.{args.kind}")  # one file per benchmark
    return module.run(config, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recbot", description="A conversational product recommender.")
    parser.add_argument("--config", type=Path, default=None, help="config file (default ./config.yaml, then built-in defaults)")
    sub = parser.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help="chat in the terminal on the configured catalogue")
    chat.add_argument("--user", default=os.environ.get("USER", "local"), help="who is chatting (memory and feedback are per user)")
    chat.add_argument("--json", action="store_true", help="one JSON reply per input line on stdout; logs on stderr")
    chat.set_defaults(run=_chat)
    ingest = sub.add_parser("ingest", help="add or update items from a JSONL or CSV catalogue")
    ingest.add_argument("path", help="catalogue file (.jsonl or .csv)")
    ingest.add_argument(
        "--format", choices=FORMATS, default="auto", help="auto (from the suffix and the CSV header) | generic | shopify | woocommerce"
    )
    ingest.set_defaults(run=_ingest)
    serve = sub.add_parser("serve", help="run the bot on a chat platform (tokens from the environment) or as a web chat")
    serve.add_argument("platform", choices=["telegram", "slack", "web"])
    serve.set_defaults(run=_serve)
    train = sub.add_parser("train", help="retrain the CF model now; swap it in if not worse (a running bot loads it on restart)")
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(run=_train)
    model = sub.add_parser("model", help="the serving model version and its held-out metrics")
    model.add_argument("--json", action="store_true", help="print metrics.json")
    model.set_defaults(run=_model)
    evaluate = sub.add_parser("eval", help="benchmarks that print figures (cf, photo, voice, dialogue)")
    evaluate.add_argument("kind", choices=["cf", "photo", "voice", "dialogue"])
    evaluate.add_argument("--data", type=Path, default=Path("../shared/data"), help="shared data folder")
    evaluate.add_argument("--dataset", default=None, help="cf: ml-100k | gowalla | lastfm")
    evaluate.add_argument("--provider", default=None, help="dialogue: rules | local | openai")
    evaluate.add_argument("--lang", choices=["en", "zh"], default=None, help="dialogue: the suite's language; voice: the clips'")
    evaluate.add_argument(
        "--suite",
        choices=["constraints", "needs", "complements"],
        default=None,
        help="dialogue: constraints (default) | needs (requests that name no product) | complements (what goes with what)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    evaluate.set_defaults(run=_eval)
    bench = sub.add_parser("bench", help="performance figures on synthetic data (store: ingest, start-up, turn latency)")
    bench.add_argument("kind", choices=["store"])
    bench.add_argument("--items", type=int, default=10_000, help="store: size of the synthetic catalogue")
    bench.add_argument("--runs", type=int, default=1, help="repeat and report the median")
    bench.add_argument("--json", action="store_true", help="print one JSON document instead of a table")
    bench.set_defaults(run=_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"recbot: {exc}", file=sys.stderr)
        return 2
    _setup_logging(config)
    try:
        return _leave(args.run(config, args))
    except ConfigError as exc:
        print(f"recbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _leave(130)


def _leave(code: int) -> int:
    """End the process directly when the local LLM is still loading in its background thread: the interpreter's
    shutdown would tear modules down under llama.cpp's running native code and crash. Everything of ours is closed and
    flushed by then (the event log commits before it acknowledges)."""
    local_llm = sys.modules.get("bot.models.local.runner")
    if local_llm is not None and local_llm.LlamaRunner.busy():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
