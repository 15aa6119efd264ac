"""Evaluated prompt prefixes of the local LLM, kept on disk so a restart does not evaluate them again.

Evaluating the fixed tool prompt (541 tokens of schema and few-shot turns) is most of the local model's start-up:
about 14 s on 2 cores, against about 2 s to load the weights. The llama.cpp state after it depends only on
the model file, llama.cpp's version, the context settings and the prefix text, so it is saved once, named by a hash
of all of them, and read back on the next start. A file that does not match (another version, a torn write, a
different build) is discarded and the prefix is evaluated again; nothing here can stop the model from answering.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what is saved changes


class PrefixStateFiles:
    """`<directory>/<hash>.npz` per (model, llama.cpp version, context settings, prefix)."""

    def __init__(self, directory: Path, model_path: Path, n_ctx: int, n_batch: int) -> None:
        import llama_cpp

        self.directory = directory
        stat = model_path.stat()
        self._identity = f"{FORMAT}|{llama_cpp.__version__}|{model_path.name}|{stat.st_size}|{stat.st_mtime_ns}|{n_ctx}|{n_batch}"

    def path(self, prefix: str) -> Path:
        digest = hashlib.sha256(f"{self._identity}\n{prefix}".encode()).hexdigest()[:32]
        return self.directory / f"{digest}.npz"

    def load(self, prefix: str, llm: Any) -> Any | None:
        """The saved state of `prefix` for the loaded `llm`, or None when there is none usable."""
        from llama_cpp.llama import LlamaState

        path = self.path(prefix)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                llama_state = saved["llama_state"].tobytes()
                evaluated = saved["input_ids"].astype(np.intc)
                n_tokens, seed = (int(x) for x in saved["numbers"])
            input_ids = np.zeros(llm.n_ctx(), np.intc)  # llama_cpp keeps a context-long array
            input_ids[:n_tokens] = evaluated[:n_tokens]
        except Exception as exc:  # whatever is wrong with the file, it is only a cache miss
            log.warning("local LLM: discarding an unreadable prompt state %s: %s", path.name, exc)
            self.discard(prefix)
            return None
        # no logits: generation always decodes the message after the prefix before it samples
        return LlamaState(input_ids, np.zeros((1, llm.n_vocab()), np.single), n_tokens, llama_state, len(llama_state), seed)

    def save(self, prefix: str, state: Any) -> None:
        """Write atomically (a crash mid-write leaves no half file); a full or read-only disk only costs the next start."""
        path = self.path(prefix)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(
                        fh,
                        llama_state=np.frombuffer(state.llama_state[: state.llama_state_size], dtype=np.uint8),
                        input_ids=np.asarray(state.input_ids[: state.n_tokens], dtype=np.intc),
                        numbers=np.array([state.n_tokens, state.seed], dtype=np.int64),
                    )
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("local LLM: could not keep the prompt state for the next start: %s", exc)

    def discard(self, prefix: str) -> None:
        self.path(prefix).unlink(missing_ok=True)
