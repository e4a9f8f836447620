"""Benchmarks for the SDK: ``python -m benchmarks`` (``make bench``).

Theory of operation. The machine these run on is shared and noisy, so no number is compared with
one taken at another time: every benchmark runs the SDK and what it is compared with side by
side, in rounds whose order rotates, and reports the ratio per round (median, min and max over
rounds) next to the raw medians. In-process benchmarks (B2, B3, B7) time batches of calls with
``perf_counter_ns`` after a warm-up; whole-process ones (B1, B4 to B6) run each measured thing in
a fresh child process, so that its import cost, CPU time and peak RSS are its own. Transfers talk
to the emulator running in yet another process, which keeps the server's CPU and memory out of
the client's numbers.

Module map: ``_measure`` runs things interleaved and in child processes; ``_report`` turns
results into the table, ``results.json`` and the README section; ``b1_import`` to ``b7_iter``
are one benchmark each (``transfer`` holds B4 to B6 and the throughput curves, which share
files and the emulator); ``_pages`` builds realistic API responses and the pydantic and msgspec
models compared in B3; ``_child`` is what a transfer child process runs; ``_cli_method`` is the
public CLI's upload method re-created; ``_plot`` draws ``throughput.png``.
"""
