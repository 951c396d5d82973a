"""Benchmarks of the conflict map: our code path side by side with a plain baseline.

Run ``python bench/run.py --help``. Results go to bench/RESULTS.md (``--write``) or to stdout
as JSON (``--json``). Nothing here is run by the test suite except a small smoke test; tests
never assert on wall-clock time.
"""
