"""The course layer: profiles, paths, notebook start-up, experiments and recipes, result
records, reports and their landing page, the browser that checks them, the benchmark and the
``fmnist`` command.

It sits on top of the core library (``fmnist.data`` ... ``fmnist.tuning``) and the plots
(``fmnist.visualization``); nothing below imports it (import-linter checks that in CI).
Import its modules directly, e.g. ``from fmnist.course.profiles import get_profile``; this
package itself imports nothing, so ``fmnist --help`` stays fast.
"""
