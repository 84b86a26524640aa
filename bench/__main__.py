"""`make bench`: every benchmark, each printed as a ratio to a bare baseline measured in the same run.

Nothing here asserts a time; read the ratios.
"""
import sys

from . import board, pages


def main() -> int:
    for benchmark in (pages, board):
        print(f"== {benchmark.__name__}")
        benchmark.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
