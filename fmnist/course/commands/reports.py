"""``fmnist report`` and ``fmnist results``."""

from __future__ import annotations

from fmnist.course.browser import BrowserUnavailable, missing, screenshot
from fmnist.course.commands import default
from fmnist.course.report import (
    CELL_TIMEOUT, build_reports, load_results, load_timings, results_dir, results_markdown, update_readme,
)  # fmt: skip


def report(args) -> int:
    unavailable = missing() if args.screenshot else None
    if unavailable:  # before the run, not after hours of it
        raise BrowserUnavailable(f"--screenshot: {unavailable}")
    index = build_reports(
        profile=args.profile, notebooks=args.notebooks or None,
        write_notebooks=args.write_notebooks, timeout=default(args.cell_timeout, CELL_TIMEOUT),
        execute=not args.no_execute, resume=args.resume,
    )  # fmt: skip
    print(f"wrote {index}")
    if args.screenshot:
        print(f"wrote {screenshot(index, args.screenshot)}")
    return 0


def results(args) -> int:
    loaded = load_results(args.dir or results_dir(), profile=args.profile)
    if args.readme:
        timings = load_timings(profile=args.profile or "full")  # the README sums the full profile
        print(f"wrote {update_readme(args.readme, loaded, timings)} ({len(loaded)} results)")
    else:
        print(results_markdown(loaded), end="")
    return 0
