"""The loaded llama.cpp model of this process: loaded and warmed off the event loop, one completion at a time in
arrival order (a fair queue), each with a time budget that includes the wait, and its fixed prompt prefixes evaluated
once (their state kept in memory and on disk)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from bot.models.local.prefix_states import PrefixStateFiles
from bot.models.local.prompts import Prompt
from bot.models.local.weights import LocalModelUnavailable

log = logging.getLogger(__name__)

N_BATCH = 512


class _StreamsUntouched(contextlib.nullcontext):  # type: ignore[type-arg]
    def __init__(self, disable: bool = True) -> None:
        super().__init__()


def _keep_standard_streams() -> None:
    """Stop llama-cpp-python from redirecting the process's stdout and stderr while a model loads.

    With verbose=False it dup2()s file descriptors 1 and 2 to /dev/null around the load: process-wide, so whatever
    another thread writes meanwhile is lost (seen here: the terminal chat's answer to a message sent while the model
    loaded in the background, and every log line after it when the process ended mid-load). llama.cpp's own messages
    go through its log callback, which verbose=False already silences.
    """
    import llama_cpp._internals
    import llama_cpp.llama

    for module in (llama_cpp.llama, llama_cpp._internals):
        module.suppress_stdout_stderr = _StreamsUntouched  # type: ignore[attr-defined]
    llama_cpp.llama_log_set(_llama_log_callback(), ctypes.c_void_p(0))


@functools.cache
def _llama_log_callback() -> Any:
    """llama.cpp's messages into our log at DEBUG (its own callback prints some of them to stderr); cached, so the
    C callback stays referenced for the life of the process."""
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())

    return callback


class FairLock:
    """First come, first served: each waiter takes a ticket; gives up (returns False) at its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    def acquire(self, deadline: float) -> bool:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._abandoned.add(ticket)
                    self._skip_abandoned()
                    return False
                self._cond.wait(left)
            return True

    def release(self) -> None:
        with self._cond:
            self._serving += 1
            self._skip_abandoned()
            self._cond.notify_all()

    def _skip_abandoned(self) -> None:
        while self._serving in self._abandoned:
            self._abandoned.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()


class LlamaRunner:
    """The loaded llama.cpp model of this process (one per model file), its queue and its statistics."""

    _instances: ClassVar[dict[tuple[str, int, int], LlamaRunner]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path_fn: Callable[[], Path], n_ctx: int, threads: int) -> None:
        self._path_fn = path_fn
        self.n_ctx = n_ctx
        self.threads = threads
        self._llm: Any = None
        self._load_lock = threading.Lock()
        self._load_error: Exception | None = None
        self.queue = FairLock()
        self._prefixes: dict[str, Any] = {}  # prompt prefix -> llama.cpp state with that prefix evaluated
        self._state_files: PrefixStateFiles | None = None  # the same, kept on disk for the next start
        self._loader: threading.Thread | None = None
        self.load_seconds: float | None = None
        self.ready = threading.Event()  # set once loaded and warmed, or once that failed
        self.ready_seconds: float | None = None  # from start_loading to warmed
        self.calls = 0  # completions run (for tests and logs)
        self.fallbacks = 0  # steps `rules` answered because the model was missing, failed or was too slow
        self.leads_kept = self.leads_dropped = 0  # lead-ins shown, and lead-ins the grounding check replaced

    @classmethod
    def busy(cls) -> bool:
        """A model of this process is still being joined, loaded or warmed in its background thread."""
        return any(r._loader is not None and r._loader.is_alive() for r in list(cls._instances.values()))

    @classmethod
    def wait_ready(cls, timeout: float) -> float | None:
        """Block until every model of this process is loaded and warmed; the slowest one's seconds from start."""
        runners = list(cls._instances.values())
        for runner in runners:
            runner.ready.wait(timeout)
        times = [r.ready_seconds for r in runners if r.ready_seconds is not None]
        return max(times) if times else None

    @classmethod
    def shared(cls, key: tuple[str, int, int], path_fn: Callable[[], Path]) -> LlamaRunner:
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(path_fn, key[1], key[2])
            return cls._instances[key]

    def load(self) -> Any:
        """Load once (thread-safe); a failure is remembered so every later turn falls back at once."""
        if self._llm is not None:
            return self._llm
        with self._load_lock:
            if self._llm is not None:
                return self._llm
            if self._load_error is not None:
                raise LocalModelUnavailable(str(self._load_error)) from self._load_error
            started = time.monotonic()
            try:
                try:
                    from llama_cpp import Llama
                except ImportError as exc:
                    raise LocalModelUnavailable("llama_cpp is not installed (pip install -e '.[local]')") from exc
                _keep_standard_streams()
                path = self._path_fn()
                llm = Llama(
                    model_path=str(path), n_ctx=self.n_ctx, n_threads=self.threads or os.cpu_count(), n_batch=N_BATCH, verbose=False, seed=0
                )
                self._state_files = PrefixStateFiles(path.parent / "prompt-states", path, self.n_ctx, N_BATCH)
                self._llm = llm
            except Exception as exc:
                self._load_error = exc
                log.warning("local LLM unavailable, answering with rules: %s", exc)
                raise LocalModelUnavailable(str(exc)) from exc
            self.load_seconds = time.monotonic() - started
            log.info("local LLM: loaded %s in %.1f s", path.name, self.load_seconds)
            return self._llm

    def start_loading(self, prompts: Sequence[Prompt] = ()) -> None:
        """Load and evaluate the fixed prompt prefixes in a background thread, so the first turn rarely waits."""

        began = time.monotonic()

        def run() -> None:
            try:
                llm = self.load()
                started = time.monotonic()
                for prompt in prompts:
                    with self.turn(time.monotonic() + 600):
                        self._use_prefix(llm, prompt.prefix())
                self.ready_seconds = time.monotonic() - began
                log.info("local LLM: %d prompt prefixes ready in %.1f s", len(prompts), time.monotonic() - started)
            except (LocalModelUnavailable, TimeoutError):
                pass
            except Exception:
                log.exception("local LLM warm-up failed; turns will evaluate the prompts themselves")
            finally:
                self.ready.set()

        self._loader = threading.Thread(target=run, name="llama-load", daemon=True)
        self._loader.start()

    @contextlib.contextmanager
    def turn(self, deadline: float) -> Iterator[None]:
        if not self.queue.acquire(deadline):
            raise TimeoutError("waited too long for the local model")
        try:
            yield
        finally:
            self.queue.release()

    def _use_prefix(self, llm: Any, prefix: str) -> None:
        """Put the evaluated state of `prefix` in the context, so a completion evaluates only the text after it.

        A turn alternates between two fixed prefixes (the tool prompt, the reply prompt); llama.cpp reuses the longest
        common prefix of its context by itself, so switching back costs a state copy instead of evaluating hundreds of
        tokens again. Each prefix is evaluated once per process. (llama_cpp's own LlamaRAMCache would also snapshot
        the logits buffer, n_batch x n_vocab floats = 311 MB, after every completion.)
        """
        state = self._prefixes.get(prefix)
        if state is None:  # first use in this process: leaves `llm` holding the prefix
            self._prefixes[prefix] = self._saved_prefix(llm, prefix) or self._evaluate_prefix(llm, prefix)
            return
        n = state.n_tokens
        if llm.n_tokens < n or not np.array_equal(llm.input_ids[:n], state.input_ids[:n]):
            llm.load_state(state)

    def _saved_prefix(self, llm: Any, prefix: str) -> Any | None:
        """The prefix's state from an earlier start, loaded into `llm`; None when there is none that fits."""
        files = self._state_files
        state = files.load(prefix, llm) if files is not None else None
        if files is None or state is None:
            return None
        try:
            llm.load_state(state)
        except (RuntimeError, ValueError) as exc:  # saved by another build or torn: evaluate afresh
            log.warning("local LLM: a saved prompt state does not fit this model (%s); evaluating it again", exc)
            files.discard(prefix)
            return None
        log.info("local LLM: read a %d-token prompt prefix's state from disk", state.n_tokens)
        return state

    def _evaluate_prefix(self, llm: Any, prefix: str) -> Any:
        """Evaluate the prefix into `llm`, keep its state (on disk too, for the next start)."""
        from llama_cpp.llama import LlamaState

        started = time.monotonic()
        llm.reset()
        llm.eval(llm.tokenize(prefix.encode(), special=True))
        full = llm.save_state()
        # no logits: generation always decodes the message after the prefix before it samples
        state = LlamaState(
            full.input_ids, np.zeros((1, llm.n_vocab()), np.single), full.n_tokens, full.llama_state, full.llama_state_size, full.seed
        )
        log.info("local LLM: evaluated a %d-token prompt prefix in %.1f s", full.n_tokens, time.monotonic() - started)
        if self._state_files is not None:
            self._state_files.save(prefix, state)
        return state

    def complete(
        self,
        prompt: Prompt,
        user: str,
        max_tokens: int,
        deadline: float,
        stop: Sequence[str] = (),
        enough: Callable[[str], bool] | None = None,
    ) -> str:
        """One completion at temperature 0, prefill included in the text; TimeoutError past the deadline (queue wait
        included). `enough(text so far)` ends the generation early when what is left would be thrown away anyway."""
        llm = self.load()
        with self.turn(deadline):
            timed_out = False
            from llama_cpp import StoppingCriteriaList

            self._use_prefix(llm, prompt.prefix())
            tokens = llm.tokenize(prompt.render(user).encode(), special=True)

            def should_stop(ids: Any, _logits: Any) -> bool:
                nonlocal timed_out
                timed_out = time.monotonic() > deadline
                return timed_out or (enough is not None and enough(llm.detokenize(list(ids[len(tokens) :])).decode("utf-8", "ignore")))

            out = llm.create_completion(
                tokens,
                max_tokens=max_tokens,
                temperature=0.0,
                stop=["<|im_end|>", "<|endoftext|>", *stop],
                stopping_criteria=StoppingCriteriaList([should_stop]),
            )
            self.calls += 1
            if timed_out:
                raise TimeoutError("the local model ran past its time budget")
            return prompt.prefill + out["choices"][0]["text"]
