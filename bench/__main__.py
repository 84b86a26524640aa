"""`make bench`: every benchmark, each printed as a ratio to a bare baseline measured in the same run.

`python -m bench compilation board` runs only the ones named. Nothing here asserts a time; read the
ratios. A benchmark that saw errors exits with SystemExit(1): the others still run, and `make bench`
fails at the end.
"""
import sys

from . import board, compilation, draft_import, pages, replies

BENCHMARKS = {module.__name__.rsplit(".", 1)[-1]: module for module in (pages, board, replies, compilation, draft_import)}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"no benchmark named {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
        return 2
    failed = []
    for benchmark in [BENCHMARKS[name] for name in names] or BENCHMARKS.values():
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
    sys.exit(main(sys.argv[1:]))
