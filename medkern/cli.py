"""The ``medkern`` command line.

Subcommands:

``medkern compare``
    Time every registered algorithm on the current arch against its reference
    (SciPy...), check the results agree, print a table and write
    ``compare.json``, ``compare.md`` and ``compare.png`` (see
    :mod:`medkern.compare`).

Exit codes: 0 success (every result agrees), 1 some result disagrees with the
reference, 2 usage error (bad option, unknown algorithm, unavailable arch).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

EXIT_OK, EXIT_DISAGREE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that returns instead of exiting, so ``main()`` always returns a code."""

    def exit(self, status=0, message=None):  # noqa: A003 - argparse's name
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)


class _Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _size(text: str) -> tuple[int, ...]:
    from .compare import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .compare import DATA_KINDS, DEFAULT_SIZE
    from .registry import DTYPES
    from .runtime import ARCHES

    parser = _Parser(prog="medkern", description="GPU-accelerated medical image processing "
                     "(Taichi kernels behind a scipy.ndimage-style API).")
    parser.add_argument("--version", action="version", version=f"medkern {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    cmp = sub.add_parser(
        "compare", help="time every algorithm against its reference and check they agree",
        description="Time every registered algorithm on the current arch against its "
        "reference (SciPy...) on a real CT volume, check the results agree, print a table "
        "and write compare.json, compare.md and compare.png. Exit code 0: all agree, "
        "1: some disagree, 2: usage error.")
    cmp.add_argument("--arch", choices=ARCHES, default=None,
                     help="compute backend (default: $MEDKERN_ARCH, else auto = cuda, "
                     "vulkan, then cpu)")
    cmp.add_argument("--size", type=_size, default=_size(DEFAULT_SIZE), metavar="SIZE",
                     help=f"input shape: N (N^3 volume), HxW (2-D) or DxHxW "
                     f"(default {DEFAULT_SIZE} = {DEFAULT_SIZE}^3)")
    cmp.add_argument("--dtype", choices=DTYPES, default="float32",
                     help="input dtype (default float32)")
    cmp.add_argument("--data", choices=DATA_KINDS, default="ct",
                     help="ct: pydicom's CT_small.dcm tiled to SIZE (default); "
                     "phantom: a Shepp-Logan-like phantom")
    cmp.add_argument("--only", metavar="NAME[,NAME...]", default=None,
                     help="compare only these algorithms (see --list)")
    cmp.add_argument("--repeat", type=_positive, default=3, metavar="N",
                     help="timed calls per implementation, best kept (default 3)")
    cmp.add_argument("--out", default="compare-out", metavar="DIR",
                     help="where to write compare.json/.md/.png (default compare-out/)")
    cmp.add_argument("--list", action="store_true",
                     help="list the registered algorithms and exit")
    cmp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    cmp.set_defaults(handler=_compare)
    return parser


def _error(parser: argparse.ArgumentParser, message: str) -> int:
    # one line, like argparse's own errors
    print(f"{parser.prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE


def _compare(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import compare, registry, runtime

    if args.list:
        algs = registry.algorithms()
        width = max(len(a.name) for a in algs)
        for a in algs:
            print(f"{a.name:<{width}}  {a.area:<12}  {a.reference_name}")
        return EXIT_OK

    only = None
    if args.only is not None:
        only = [n.strip() for n in args.only.split(",") if n.strip()]
        known = compare.known_names()
        unknown = [n for n in only if n not in known]
        if unknown or not only:
            return _error(parser, f"unknown algorithm(s) for --only: {', '.join(unknown) or '(none)'}"
                                  f"; known: {', '.join(known)}")
    algs = compare.select(only)

    try:
        runtime.init(args.arch)
        info = runtime.info()
    except (runtime.BackendUnavailableError, RuntimeError, ValueError) as exc:
        return _error(parser, f"--arch {args.arch or os.environ.get('MEDKERN_ARCH', 'auto')}: {exc}")

    shape = tuple(args.size)
    input_desc = compare.describe_input(shape, args.dtype, args.data)
    print(compare.header_line(info, input_desc), flush=True)
    progress = compare.Progress(len(algs), sys.stderr, enabled=not args.quiet)
    rows = compare.run_all(algs, shape, args.dtype, args.data, args.repeat, progress)
    print()
    print(compare.format_table(rows))
    print()
    print(compare.summary_line(rows))
    run_args = {"arch": args.arch, "size": list(shape), "dtype": args.dtype, "data": args.data,
                "only": only, "repeat": args.repeat, "out": args.out}
    try:
        paths = compare.write_reports(rows, args.out, info, run_args, input_desc)
    except OSError as exc:
        return _error(parser, f"--out {args.out}: {exc}")
    print("wrote " + ", ".join(paths.values()))
    if "png" not in paths:
        print("(compare.png not written: matplotlib is not installed)", file=sys.stderr)
    return EXIT_OK if compare.summary(rows)["all_agree"] else EXIT_DISAGREE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``medkern`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    except _Exit as exc:
        return exc.code
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    sub = parser._subparsers._group_actions[0].choices[args.command]  # noqa: SLF001
    try:
        return args.handler(args, sub)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `medkern compare --list | head`
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
