"""The ``fmnist`` command line: the package's jobs without a notebook.

Examples::

    fmnist data info                 # where the data is, checksums, shapes, class counts
    fmnist data fetch                # obtain it (verified download into Keras's cache)
    fmnist train cnn_medium --epochs 5 --run-dir runs/cnn_medium
    fmnist evaluate runs/cnn_medium/model.keras
    fmnist tune --space mlp --engine talos --max-trials 4
    fmnist report --profile quick    # execute the notebooks, export HTML to reports/
    fmnist benchmark --tiny

Errors exit with status 2 and a one-line message (no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_ERROR = 2


def _cmd_data(args) -> int:
    from fmnist.data import dataset_info, fetch, find_dataset

    if args.action == "fetch":
        try:
            where = find_dataset(args.name, args.data_dir)
            print(f"{args.name}: already present in {where}")
        except FileNotFoundError:
            where = fetch(args.name)
            print(f"{args.name}: downloaded and verified into {where}")
        info = dataset_info(args.name, where)
        return 0 if info.get("verified") else EXIT_ERROR
    info = dataset_info(args.name, args.data_dir)
    if args.quiet:
        return 0 if info.get("verified") else 1
    if args.json:
        print(json.dumps(info, indent=2))
        return 0 if info.get("verified") else 1
    print(f"dataset:   {info['name']}")
    if not info["found"]:
        print(info["error"])
        return 1
    print(f"found in:  {info['directory']}")
    print(f"checksums: {'OK (SHA-256 verified)' if info['verified'] else 'FAILED'}")
    if not info["verified"]:
        print(info["error"])
        return 1
    for role, shape in info["shapes"].items():
        print(f"{role:13s} {tuple(shape)}")
    print(f"{'class':13s} {'train':>6s} {'test':>6s}")
    for cls, n in info["train_class_counts"].items():
        print(f"{cls:13s} {n:6d} {info['test_class_counts'][cls]:6d}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fmnist", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="dataset info / fetch")
    data.add_argument("action", choices=("info", "fetch"))
    data.add_argument("name", nargs="?", default="fashion_mnist", choices=("fashion_mnist", "mnist"))
    data.add_argument("--data-dir", default=None, help="directory searched first")
    data.add_argument("--json", action="store_true", help="print machine-readable JSON")
    data.add_argument("--quiet", action="store_true", help="no output; exit 0 iff verified")
    data.set_defaults(func=_cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, KeyError, RuntimeError, OSError) as exc:
        # Library errors already say what was wrong and what is valid.
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fmnist {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
