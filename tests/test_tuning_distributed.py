"""Distributed KerasTuner search: one chief and two workers on 127.0.0.1 share the trials.

The processes are real subprocesses talking gRPC; the data is tiny and synthetic; the whole
cluster has a hard time limit and every process is killed in a ``finally``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from fmnist.tuning import DistributedConfigError, cluster_env, distributed_role, free_port, read_executions

MAX_TRIALS = 4
TIMEOUT = 120  # seconds for the whole cluster (~55 s measured on 2 shared cores)

# Every process builds the same data and search; workers wait for each other first so that
# both are connected before the first trial is handed out (otherwise a fast starter could
# legitimately run every trial alone).
DRIVER = textwrap.dedent(
    """
    import json, os, sys, time
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    from fmnist.tuning import get_space, run_search

    directory, barrier = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 320)
    x = rng.normal(size=(320, 64)).astype("float32")
    x[np.arange(320), y] += 3.0
    space = get_space("mlp", input_shape=(64,), n_classes=3).with_params(units_1=[4, 8], units_2=[4, 8])
    me = os.environ["KERASTUNER_TUNER_ID"]
    if me != "chief":
        open(os.path.join(barrier, me), "w").close()
        deadline = time.time() + 90
        while len(os.listdir(barrier)) < 2 and time.time() < deadline:
            time.sleep(0.2)
    out = run_search(space, "kerastuner", x[:256], y[:256], x[256:], y[256:], max_trials=int(sys.argv[3]),
                     epochs=1, directory=directory, project_name="dist", tuner="random",
                     distributed=True, quiet=True)
    print(json.dumps({"role": out.role, "trials_run": out.trials_run, "rows": len(out.results)}))
    """
)


def test_distributed_role_from_environment():
    assert distributed_role({}) is None
    role = distributed_role(cluster_env("chief", 8000, base={}))
    assert role.is_chief and role.port == 8000 and role.name == "chief"
    worker = distributed_role(cluster_env("tuner1", 8000, ip="10.0.0.2", base={}))
    assert not worker.is_chief and worker.ip == "10.0.0.2" and worker.name == "tuner1"
    with pytest.raises(DistributedConfigError, match="missing: KERASTUNER_ORACLE_PORT"):
        distributed_role({"KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_IP": "127.0.0.1"})
    with pytest.raises(DistributedConfigError, match="port number"):
        distributed_role({**cluster_env("chief", 1, base={}), "KERASTUNER_ORACLE_PORT": "http"})


@pytest.mark.slow
def test_chief_and_two_workers_share_trials(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    port = free_port()
    procs: dict[str, subprocess.Popen] = {}
    logs = {}
    try:
        for tuner_id in ("chief", "tuner0", "tuner1"):
            env = cluster_env(tuner_id, port)
            env["TF_CPP_MIN_LOG_LEVEL"] = "3"
            logs[tuner_id] = open(tmp_path / f"{tuner_id}.log", "w+")
            procs[tuner_id] = subprocess.Popen(
                [sys.executable, str(driver), str(tmp_path), str(barrier), str(MAX_TRIALS)],
                env=env, stdout=logs[tuner_id], stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + TIMEOUT
        for tuner_id, proc in procs.items():
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        outputs = {}
        for tuner_id, fh in logs.items():
            fh.seek(0)
            outputs[tuner_id] = fh.read()
            fh.close()

    for tuner_id, proc in procs.items():
        assert proc.returncode == 0, f"{tuner_id} failed:\n{outputs[tuner_id][-3000:]}"

    run_dir = tmp_path / "dist"
    results = pd.read_csv(run_dir / "results.csv", dtype={"trial_id": str})
    assert len(results) == MAX_TRIALS and results["trial_id"].is_unique
    runs = read_executions(run_dir)
    # Only the workers trained; every trial ran exactly once; both workers got some.
    assert set(runs["tuner_id"]) == {"tuner0", "tuner1"}
    assert len(runs) == MAX_TRIALS and runs["trial_id"].is_unique and runs["param_hash"].is_unique
    assert sorted(runs["trial_id"]) == sorted(results["trial_id"])
    per_worker = runs.groupby("tuner_id").size()
    assert per_worker.sum() == MAX_TRIALS and (per_worker >= 1).all()
    assert '"role": "chief"' in outputs["chief"] and f'"rows": {MAX_TRIALS}' in outputs["chief"]
