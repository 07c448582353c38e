"""Benchmarks: each of our figures beside the machine's limit for the same work, measured in the same run.

Run ``python -m bench`` (options in bench/README.md). The system runs as real processes (Mosquitto,
``mpm-cloud serve``, ``mpm-agent run``, the simulators) and is timed from outside. Speed is measured
here, never asserted in tests; ``tests/bench`` only runs the suite at tiny sizes so it cannot rot.
"""
