"""Benchmarks behind `recbot eval KIND`: one module per kind, each with `run(config, args) -> int`."""
