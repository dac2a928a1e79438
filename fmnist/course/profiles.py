"""Run profiles: the course's training budgets.

Two profiles share one code path and differ only in training budgets:

* ``quick`` — small stratified subsets, 2 epochs (100 for the regression net), 2-3 tuning
  trials. ``pytest --nbval notebooks`` runs the whole notebook suite in it in about five minutes
  on 2 CPU cores; CI uses it.
* ``full`` — the real experiments behind the reported results (hours on 2 cores).

Data loading and splitting are always done on the full dataset (cheap and deterministic).

Example::

    >>> from fmnist.course.profiles import get_profile
    >>> get_profile("quick").cnn_epochs
    2
"""

from __future__ import annotations

import dataclasses
import os

PROFILE_ENV = "FMNIST_PROFILE"



#: Layouts :meth:`Profile.tuning_budget` knows (those of ``fmnist.tuning.SearchSpace``).
TUNING_LAYOUTS = ("mlp", "cnn", "regression", None)


@dataclasses.dataclass(frozen=True)
class Profile:
    """Training budgets of one profile. ``None`` for a subset means the whole split."""

    name: str
    train_subset: int | None  # training images used by the MLP experiments
    cnn_subset: int | None  # training images used by the CNN experiments
    dev_subset: int | None  # dev images scored after every epoch (the test set is always whole)
    epochs: int  # MLP epochs
    cnn_epochs: int  # CNN baselines (and the refit of the tuned CNN)
    best_epochs: int  # budget of mlp_best (issue F)
    cnn_best_epochs: int  # budget of cnn_best and the regularized CNNs (issue F: <= 30 min)
    batch_size: int
    patience: int | None  # early-stopping patience (None: no early stopping)
    tuning_trials: int
    tuning_epochs: int
    tuning_subset: int
    cnn_tuning_trials: int  # CNN trials cost ~10x MLP trials, so the CNN search has its own budget
    cnn_tuning_epochs: int
    cnn_tuning_subset: int
    cv_folds: int
    regression_epochs: int
    regression_trials: int
    gradient_epochs: int  # deep-thin MLP demo
    maximize_steps: int  # gradient-ascent steps of activation maximization
    robustness_subset: int | None  # test images scored under every corruption (None: all)

    def summary(self) -> str:
        """The profile in one line, as each notebook's first cell prints it.

        >>> get_profile("quick").summary()  # doctest: +NORMALIZE_WHITESPACE
        'quick profile: MLPs 6,000 images x 2 epochs, CNNs 2,000 x 2 (best 2), batch 128, no early stopping,
        3 tuning trials'
        """
        def images(subset):
            return "all" if subset is None else f"{subset:,}"

        stopping = "no early stopping" if self.patience is None else f"early-stopping patience {self.patience}"
        return (f"{self.name} profile: MLPs {images(self.train_subset)} images x {self.epochs} epochs, "
                f"CNNs {images(self.cnn_subset)} x {self.cnn_epochs} (best {self.cnn_best_epochs}), "
                f"batch {self.batch_size}, {stopping}, {self.tuning_trials} tuning trials")

    def tuning_budget(self, layout: str) -> tuple[int, int, int]:
        """``(trials, epochs per trial, training images)`` of a search over a ``layout`` space.

        ``layout`` is a search space's layout: ``"cnn"`` has its own budget; ``"mlp"``,
        ``"regression"`` and None (a space without a layout) use the MLP one.

        >>> get_profile("full").tuning_budget("cnn")
        (12, 6, 6000)
        """
        # A typo ('cnnn', 'CNN') used to get the MLP budget without a word.
        if layout not in TUNING_LAYOUTS:
            raise ValueError(
                f"unknown layout {layout!r}; valid layouts: "
                f"{', '.join(repr(v) for v in TUNING_LAYOUTS)}"
            )
        if layout == "cnn":
            return self.cnn_tuning_trials, self.cnn_tuning_epochs, self.cnn_tuning_subset
        return self.tuning_trials, self.tuning_epochs, self.tuning_subset


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        train_subset=6_000,
        cnn_subset=2_000,
        dev_subset=2_000,
        epochs=2,
        cnn_epochs=2,
        best_epochs=2,
        cnn_best_epochs=2,
        batch_size=128,
        patience=None,
        tuning_trials=3,
        tuning_epochs=2,
        tuning_subset=1_024,
        cnn_tuning_trials=2,
        cnn_tuning_epochs=2,
        cnn_tuning_subset=1_024,
        cv_folds=3,
        regression_epochs=100,
        regression_trials=2,
        gradient_epochs=2,
        maximize_steps=30,
        robustness_subset=200,
    ),
    "full": Profile(
        name="full",
        train_subset=None,
        cnn_subset=None,
        dev_subset=None,
        epochs=30,
        cnn_epochs=10,
        best_epochs=40,
        cnn_best_epochs=24,
        batch_size=128,
        patience=5,
        tuning_trials=20,
        tuning_epochs=10,
        tuning_subset=12_000,
        cnn_tuning_trials=12,
        cnn_tuning_epochs=6,
        cnn_tuning_subset=6_000,
        cv_folds=5,
        regression_epochs=1_000,
        regression_trials=8,
        gradient_epochs=10,
        maximize_steps=200,
        robustness_subset=None,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile ``name``, else ``$FMNIST_PROFILE``, else ``"quick"``.

    Raises:
        ValueError: if the name is not one of :data:`PROFILES`.
        TypeError: if ``name`` is neither a string nor None.
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(
            f"profile name must be a string or None, got {name!r}; valid profiles: "
            f"{', '.join(sorted(PROFILES))}"
        )
    chosen = name if name is not None else os.environ.get(PROFILE_ENV, "quick")
    chosen = chosen.strip().lower()
    if chosen not in PROFILES:
        raise ValueError(
            f"unknown profile {chosen!r} (from {'argument' if name is not None else PROFILE_ENV}); "
            f"valid profiles: {', '.join(sorted(PROFILES))}"
        )
    return PROFILES[chosen]
