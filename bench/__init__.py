"""Benchmarks: each of our figures beside the machine's limit for the same work, measured in the same run.

Run ``python -m bench [--quick] [--json] [--only NAME]``. Never part of the test pass: speed is
measured here, never asserted in tests (shared/DESIGN.md "Performance facts").
"""
