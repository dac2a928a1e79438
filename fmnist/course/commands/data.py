"""``fmnist data info`` / ``fmnist data fetch`` (no Keras, no TensorFlow)."""

from __future__ import annotations

import json

from fmnist.course.commands import EXIT_ERROR
from fmnist.data import dataset_info, fetch, find_dataset


def data(args) -> int:
    if args.action == "fetch":
        try:
            where = find_dataset(args.name, args.data_dir)
            print(f"{args.name}: already present in {where}")
        except FileNotFoundError:  # a --data-dir that lacks files gets them downloaded into it
            where = fetch(args.name, args.data_dir)
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
