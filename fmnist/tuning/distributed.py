"""Distributed KerasTuner search: one chief (the oracle, over gRPC) and any number of workers.

KerasTuner reads three environment variables in every process:

* ``KERASTUNER_TUNER_ID`` — ``chief`` for the oracle process, ``tuner0``, ``tuner1``, ... for
  the workers (unique per worker);
* ``KERASTUNER_ORACLE_IP`` / ``KERASTUNER_ORACLE_PORT`` — where the chief listens (the chief
  binds to this address; workers connect to it).

All processes run the *same* search (same space, engine, tuner, objective, data, ``epochs``,
``max_trials``, ``directory`` and ``project_name``) with ``distributed=True``. The chief only
hands out trials and collects results; workers train. The chief returns after the last worker
has finished and writes ``results.csv``; each worker logs what it ran in
``executions/<tuner_id>.csv``.

Across machines: put ``directory`` on a filesystem every machine mounts (NFS, a bucket via
gcsfuse, ...) because Hyperband workers load their parents' checkpoints from it; give every
machine the same data (e.g. the same ``fmnist.data.load_splits`` seed and subset); open the
chief's port; then, for example::

    # machine A (chief)
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=0.0.0.0 KERASTUNER_ORACLE_PORT=8000 \\
        fmnist tune --space cnn --engine kerastuner --tuner random --distributed ...
    # machines B, C, ... (workers)
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=<A's address> KERASTUNER_ORACLE_PORT=8000 \\
        fmnist tune --space cnn --engine kerastuner --tuner random --distributed ...

Locally, :func:`cluster_env` gives the environment of each process (see the test
``tests/test_tuning_distributed.py``, which runs a chief and two workers on 127.0.0.1).
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping

__all__ = [
    "ENV_ORACLE_IP", "ENV_ORACLE_PORT", "ENV_TUNER_ID", "DistributedConfigError", "DistributedRole",
    "cluster_env", "distributed_role", "free_port",
]  # fmt: skip

ENV_TUNER_ID = "KERASTUNER_TUNER_ID"
ENV_ORACLE_IP = "KERASTUNER_ORACLE_IP"
ENV_ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
_ENV_VARS = (ENV_TUNER_ID, ENV_ORACLE_IP, ENV_ORACLE_PORT)


class DistributedConfigError(ValueError):
    """Missing or inconsistent KERASTUNER_* environment variables."""


@dataclasses.dataclass(frozen=True)
class DistributedRole:
    """This process's part in a distributed search."""

    tuner_id: str
    ip: str
    port: int

    @property
    def is_chief(self) -> bool:
        """KerasTuner treats any id containing "chief" as the oracle process."""
        return "chief" in self.tuner_id

    @property
    def name(self) -> str:
        """"chief" or the worker's tuner id."""
        return "chief" if self.is_chief else self.tuner_id


def distributed_role(environ: Mapping[str, str] | None = None) -> DistributedRole | None:
    """The role described by the KERASTUNER_* variables, or None when none is set.

    Raises:
        DistributedConfigError: some but not all variables are set, or the port is invalid.
    """
    env = os.environ if environ is None else environ
    present = [k for k in _ENV_VARS if env.get(k)]
    if not present:
        return None
    missing = [k for k in _ENV_VARS if k not in present]
    if missing:
        raise DistributedConfigError(
            f"distributed tuning needs all of {', '.join(_ENV_VARS)}; missing: {', '.join(missing)} "
            f"({ENV_TUNER_ID}=chief on the oracle process, tuner0/tuner1/... on the workers)"
        )
    try:
        port = int(env[ENV_ORACLE_PORT])
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise DistributedConfigError(
            f"{ENV_ORACLE_PORT} must be a port number 1-65535, got {env[ENV_ORACLE_PORT]!r}"
        )
    return DistributedRole(tuner_id=env[ENV_TUNER_ID], ip=env[ENV_ORACLE_IP], port=port)


def cluster_env(
    tuner_id: str, port: int, ip: str = "127.0.0.1", base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for one process of a local cluster (``base`` defaults to ``os.environ``)."""
    env = dict(os.environ if base is None else base)
    env.update({ENV_TUNER_ID: tuner_id, ENV_ORACLE_IP: ip, ENV_ORACLE_PORT: str(int(port))})
    return env


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (for local clusters and tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
