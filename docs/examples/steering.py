"""A minimal steering script for method: container (docs/generators.md); standard library only.

    python3 /app/steering.py --max_points=%MAX_POINTS --num_points=%NUM_POINTS --input=%IN --output=%OUT

It reads idds_input.json from its working directory and writes up to num_points new points: half of
them near the best point so far, the rest at random in the canonical search space.
"""

import argparse
import json
import math
import random
import sys


def sample(spec, rng, near):
    """A value of one parameter: uniform, or close to `near` when it is given."""
    if spec["type"] == "categorical":
        return near if near is not None and rng.random() < 0.7 else rng.choice(spec["choices"])
    lo, hi, log = spec["low"], spec["high"], spec.get("log", False)
    a, b = (math.log(lo), math.log(hi)) if log else (lo, hi)
    if near is None:
        x = rng.uniform(a, b)
    else:
        x = min(b, max(a, (math.log(near) if log else near) + rng.gauss(0, (b - a) / 10)))
    value = math.exp(x) if log else x
    if "step" in spec:
        value = lo + round((value - lo) / spec["step"]) * spec["step"]
    value = min(hi, max(lo, value))
    return int(round(value)) if spec["type"] == "int" else round(value, 12)


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--max_points", "--num_points"):
        parser.add_argument(flag, type=int, required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    with open(args.input) as f:
        doc = json.load(f)
    history = doc["points"]  # [[point, loss or null], ...]: every point so far, in id order
    space = doc["opt_space"]  # spec.optSpace, or the canonical spec.searchSpace when optSpace is empty
    if not space:
        sys.exit("steering: idds_input.json has no opt_space; set spec.searchSpace")

    count = min(args.num_points, args.max_points - len(history))
    seen = {json.dumps(point, sort_keys=True) for point, _ in history}
    evaluated = [(loss, point) for point, loss in history if loss is not None]
    best = min(evaluated, key=lambda e: e[0])[1] if evaluated else None
    rng = random.Random(len(history))
    points = []
    for attempt in range(100 * max(count, 0)):
        if len(points) == count:
            break
        near = best if best is not None and attempt % 2 == 0 else {}
        point = {name: sample(spec, rng, near.get(name)) for name, spec in space.items()}
        key = json.dumps(point, sort_keys=True)
        if key not in seen:  # never propose a point twice
            seen.add(key)
            points.append(point)

    with open(args.output, "w") as f:
        json.dump(points, f)  # [] ends the request
    print(f"steering: {len(history)} points known, {len(evaluated)} evaluated; wrote {len(points)}")


if __name__ == "__main__":
    main()
