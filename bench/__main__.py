"""``python -m bench [--quick] [--json] [--only NAME] [--repeats N] [--no-write]``."""

from __future__ import annotations

import argparse
import sys

from bench.measure import Sizes
from bench.runner import BENCHMARKS, run


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole set well under a minute")
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only NAME (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per line (median; at least 3)")
    parser.add_argument("--no-write", action="store_true", help="write no result files")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (the figure is a median)")
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    sizes = Sizes(quick=args.quick, repeats=args.repeats)
    return run(names, sizes, as_json=args.json, write=not args.no_write)


if __name__ == "__main__":
    sys.exit(main())
