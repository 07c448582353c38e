"""``python -m bench [--quick] [--json] [--only NAME] [--repeats N] [--no-write] [--postgres-url URL]
[--full-backlog] [--profile]``."""

from __future__ import annotations

import argparse
import os
import sys

from bench.measure import Sizes
from bench.runner import BENCHMARKS, run


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole set in a few minutes")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes for the test suite (implies --quick)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only NAME (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per line (median; at least 3)")
    parser.add_argument("--no-write", action="store_true", help="write no result files")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("MPM_BENCH_POSTGRES_URL"),
        help="also run the cloud benches on this PostgreSQL server (a scratch database is created "
        "and dropped); default MPM_BENCH_POSTGRES_URL",
    )
    parser.add_argument(
        "--full-backlog", action="store_true", help="drain a real 1M-event backlog (else a bounded window)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="where a goal is missed, profile the process with py-spy"
    )
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (the figure is a median)")
    if args.smoke:
        args.repeats = 1  # the smoke run proves every bench runs and reports; its figures mean nothing
    if args.postgres_url:
        os.environ["MPM_BENCH_POSTGRES_URL"] = args.postgres_url  # read by bench.cloud_db
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    sizes = Sizes(
        quick=args.quick or args.smoke,
        repeats=args.repeats,
        postgres_url=args.postgres_url or None,
        full_backlog=args.full_backlog,
        profile=args.profile,
        smoke=args.smoke,
    )
    return run(
        names, sizes, as_json=args.json, write=not args.no_write, argv=sys.argv[1:] if argv is None else argv
    )


if __name__ == "__main__":
    sys.exit(main())
