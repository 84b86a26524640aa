"""`make bench`: every benchmark, each printed as a ratio to a bare baseline measured in the same run.

Nothing here asserts a time; read the ratios. A benchmark that saw errors exits with SystemExit(1):
the others still run, and `make bench` fails at the end.
"""
import sys

from . import board, pages, replies


def main() -> int:
    failed = []
    for benchmark in (pages, board, replies):
        print(f"== {benchmark.__name__}", flush=True)
        try:
            benchmark.run()
        except SystemExit as exit_:
            if exit_.code:
                failed.append(benchmark.__name__)
    if failed:
        print(f"errors in: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
