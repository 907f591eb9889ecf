"""Benchmarks: each writes its measured numbers, and the command behind them, to BENCHMARKS.md."""
