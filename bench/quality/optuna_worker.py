"""Optuna behind a JSON-lines pipe, for bench/quality/run.ts.

One study at a time. Requests (one JSON object per line on stdin), each answered by one line:
  {"op": "version"}                                   -> {"version": "5.0.0"}
  {"op": "new", "sampler": "tpe"|"random", "seed": 1, "low": [...], "high": [...]} -> {"ok": true}
  {"op": "ask", "n": 10}                              -> {"points": [[x1, ...], ...]}
  {"op": "tell", "values": [...]}                     -> {"ok": true}   (the points of the last ask, in order)
The objective is computed by the caller, so both harnesses evaluate the very same functions.
"""

import json
import sys
import warnings

import optuna

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.WARNING)


def main() -> None:
    study = None
    dists = {}
    asked = []
    for line in sys.stdin:
        msg = json.loads(line)
        op = msg["op"]
        if op == "version":
            reply = {"version": optuna.__version__}
        elif op == "new":
            if msg["sampler"] == "tpe":
                sampler = optuna.samplers.TPESampler(seed=msg["seed"])
            else:
                sampler = optuna.samplers.RandomSampler(seed=msg["seed"])
            study = optuna.create_study(sampler=sampler, direction="minimize")
            dists = {
                f"x{i}": optuna.distributions.FloatDistribution(lo, hi)
                for i, (lo, hi) in enumerate(zip(msg["low"], msg["high"]))
            }
            reply = {"ok": True}
        elif op == "ask":
            asked = [study.ask(dists) for _ in range(msg["n"])]
            reply = {"points": [[t.params[f"x{i}"] for i in range(len(dists))] for t in asked]}
        elif op == "tell":
            for trial, value in zip(asked, msg["values"]):
                study.tell(trial, value)
            reply = {"ok": True}
        else:
            reply = {"error": f"unknown op {op}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
