"""Benchmark smoke run, and checks of the speed-ups the benchmarks led to."""
