"""The nevergrad generator behind `method: nevergrad`: an iDDS steering container.

    python /app/main.py --max_points=%MAX_POINTS --num_points=%NUM_POINTS --input=%IN --output=%OUT \
        [--optimizer=DiscreteOnePlusOne] [--seed=S] [--direction=minimize|maximize]

Reads idds_input.json ({"points": [[point, loss|null], ...], "opt_space": ...}) with opt_space in
the iDDS nevergrad form ({"A": {"type": "Choice", "params": {"choices": [...]}}, "B": {"type":
"Scalar", "bounds": [0, 5]}}; also TransitionChoice, Log, Array) or the canonical one ({name: {type:
float|int|categorical, low, high, log, step, choices}}), replays the history into a nevergrad
optimizer and writes a JSON list of num_points new points, distinct from each other and from every
point of the history, to the output file. It writes [] when the history already holds max_points
points or when a finite space has no unseen point left.

History: a point with a finite numeric loss is told with that loss. A point without one (null:
pending, not yet evaluated; or anything else, such as "failed") is told with a constant liar, the
worst loss seen so far, so the optimizer neither proposes it again nor settles near it. The new
points of the batch are told with the same liar as they are asked, the classic constant-liar batch.

Exit codes: 0 with the output written; 1 when the input cannot be used (the message says why, in
one line on stderr); 2 for bad flags. Writes nothing but the output file (and a temporary file
beside it), so it runs on a read-only root filesystem with only the working directory writable.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

PROG = "nevergrad-generator"
# What the operator passes as %MAX_POINTS for a request without maxPoints (src/jobs/protocol.ts).
UNCAPPED = 1_000_000
# The budget an uncapped request plans for (NGOpt needs one to choose its algorithm).
UNCAPPED_BUDGET = 1000
# Finite spaces up to this many points are enumerated when the optimizer keeps proposing seen points.
ENUMERATE_LIMIT = 200_000
# At most this many points are told by default: a tell costs nevergrad 3 to 50 ms (NGOpt's
# portfolios are the slow ones), and a generation must end well inside its timeout. Every point
# still counts as seen.
TELL_LIMIT = 1000
UNCAPPED_WORDS = {"none", "null", "inf", "infinity", "unlimited", "nolimit", ""}
NEVERGRAD_TYPES = ("Choice", "TransitionChoice", "Scalar", "Log", "Array")
# The optimizer of iDDS's own nevergrad steering (idds-atlas processing/hyperparameteropt_nevergrad.py),
# so that an iDDS user's method: nevergrad behaves as it did there.
IDDS_OPTIMIZER = "DiscreteOnePlusOne"


class InputError(Exception):
    """A problem with the input file or the search space: exit code 1, one line on stderr."""


# ---------------------------------------------------------------------------------------------
# The search space


@dataclass
class Dim:
    """One parameter: a float or int range (optionally log or stepped), or a list of choices."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    choices: list[Any] = field(default_factory=list)
    ordered: bool = False  # a TransitionChoice: neighbouring choices are related

    def levels(self) -> float:
        """How many values the dimension has (math.inf for a continuous float range)."""
        if self.kind == "categorical":
            return len(self.choices)
        if self.high == self.low:
            return 1
        step = self.step if self.step is not None else (1 if self.kind == "int" else 0)
        if step == 0:
            return math.inf
        return math.floor((self.high - self.low) / step + 1e-9) + 1

    def level(self, index: int) -> Any:
        """The index-th value (from 0) of a discrete dimension."""
        if self.kind == "categorical":
            return self.choices[index]
        if self.kind == "int" and self.step is None:
            return int(self.low) + index
        return tidy(self, self.low + index * self._step())

    def _step(self) -> float:
        return self.step if self.step is not None else 1

    def is_constant(self) -> bool:
        return self.levels() == 1

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"one of {json.dumps(self.choices)}"
        extras = ", ".join(x for x in ("log" if self.log else "", f"step {self.step}" if self.step else "") if x)
        return f"{self.kind} [{fmt(self.low)}, {fmt(self.high)}]" + (f" ({extras})" if extras else "")


def fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_param_value(x: Any) -> bool:
    return isinstance(x, (str, bool)) or is_number(x)


def describe(x: Any, limit: int = 60) -> str:
    text = json.dumps(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def decimals_of(x: float) -> int:
    text = repr(abs(float(x)))
    mantissa, _, exponent = text.partition("e")
    fraction = len(mantissa.split(".")[1]) if "." in mantissa else 0
    if mantissa.endswith(".0"):
        fraction = 0
    return max(0, fraction - (int(exponent) if exponent else 0))


def tidy(dim: Dim, v: float) -> float:
    """Rounds a grid value to the decimals of low and step, so 0.1 + 2 * 0.1 is written 0.3."""
    decimals = max(decimals_of(dim.low), decimals_of(dim._step()))
    if decimals > 15:
        return min(dim.high, v)
    return min(dim.high, round(v, decimals))


def compile_space(opt_space: Any) -> list[Dim]:
    """Compiles opt_space (any form the operator understands) into dimensions sorted by name."""
    if opt_space is None:
        raise InputError(
            "opt_space is null: method nevergrad needs a search space (set spec.searchSpace or spec.optSpace)"
        )
    if not isinstance(opt_space, dict):
        raise InputError(f"opt_space must be a map from parameter name to its definition (got {describe(opt_space)})")
    if not opt_space:
        raise InputError("opt_space has no parameters")
    return [compile_entry(name, opt_space[name]) for name in sorted(opt_space)]


def compile_entry(name: str, raw: Any) -> Dim:
    where = f"parameter {json.dumps(name)}"
    if isinstance(raw, list):
        if len(raw) == 2 and all(is_number(b) for b in raw):
            if raw[1] < raw[0]:
                raise InputError(f"{where}: bounds [{fmt(raw[0])}, {fmt(raw[1])}] must be given as [low, high]")
            return numeric(name, "float", raw[0], raw[1], False)
        return categorical(name, raw)
    if is_param_value(raw):
        return categorical(name, [raw])
    if not isinstance(raw, dict):
        raise InputError(f"{where}: cannot read {describe(raw)} as a parameter definition")
    kind = raw.get("type")
    if kind in ("float", "int", "categorical"):
        return canonical(name, raw)
    if not isinstance(kind, str):
        raise InputError(
            f'{where}: missing "type"; use a nevergrad type ({", ".join(NEVERGRAD_TYPES)}), '
            "a canonical one (float, int, categorical), [low, high] bounds or a list of choices"
        )
    return nevergrad_entry(name, kind, raw)


def canonical(name: str, raw: dict[str, Any]) -> Dim:
    where = f"parameter {json.dumps(name)}"
    if raw["type"] == "categorical":
        return categorical(name, raw.get("choices"))
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise InputError(f"{where}: log must be true or false")
    step = raw.get("step")
    if step is not None and not (is_number(step) and step > 0):
        raise InputError(f"{where}: step must be a positive number (got {describe(step)})")
    return numeric(name, raw["type"], raw.get("low"), raw.get("high"), log, step)


def nevergrad_entry(name: str, kind: str, raw: dict[str, Any]) -> Dim:
    where = f"parameter {json.dumps(name)}"
    params = raw.get("params") if isinstance(raw.get("params"), dict) else {}
    repetitions = params.get("repetitions", raw.get("repetitions"))
    if repetitions is not None and repetitions != 1:
        raise InputError(
            f"{where}: repetitions (vector parameters) are not supported; define one parameter per component"
        )
    if kind in ("Choice", "TransitionChoice"):
        choices = params.get("choices", raw.get("choices"))
        if isinstance(choices, int) and not isinstance(choices, bool) and choices > 0:
            choices = list(range(choices))  # nevergrad's Choice(n) shorthand
        dim = categorical(name, choices)
        dim.ordered = kind == "TransitionChoice"
        return dim
    if kind in ("Scalar", "Log", "Array"):
        if kind == "Array":
            shape = params.get("shape", raw.get("shape"))
            size = math.prod(int(s) for s in shape) if isinstance(shape, list) else 1
            if size != 1:
                raise InputError(
                    f"{where}: an Array of shape {describe(shape)} is a vector; define one parameter per component"
                )
        bounds = raw.get("bounds", params.get("bounds"))
        if isinstance(bounds, list) and len(bounds) == 2:
            low, high = bounds
        else:
            low, high = params.get("lower", raw.get("lower")), params.get("upper", raw.get("upper"))
        if low is None or high is None:
            raise InputError(
                f'{where}: a {kind} needs bounds, e.g. "bounds": [0, 5] (unbounded parameters cannot be searched)'
            )
        integer = raw.get("integer") is True or params.get("integer") is True
        if integer and is_number(low) and is_number(high):
            return numeric(name, "int", math.ceil(low), math.floor(high), kind == "Log")
        return numeric(name, "int" if integer else "float", low, high, kind == "Log")
    raise InputError(
        f"{where}: unknown type {json.dumps(kind)}; expected one of {', '.join(NEVERGRAD_TYPES)} "
        "(nevergrad) or float, int, categorical"
    )


def numeric(name: str, kind: str, low: Any, high: Any, log: bool, step: Any = None) -> Dim:
    where = f"parameter {json.dumps(name)}"
    if not is_number(low):
        raise InputError(f"{where}: low must be a number (got {describe(low)})")
    if not is_number(high):
        raise InputError(f"{where}: high must be a number (got {describe(high)})")
    if high < low:
        raise InputError(f"{where}: high ({fmt(high)}) must not be below low ({fmt(low)})")
    if log and low <= 0:
        raise InputError(f"{where}: a log scale needs low > 0 (got low = {fmt(low)})")
    if log and step is not None:
        raise InputError(f"{where}: step cannot be combined with log; drop one of them")
    if kind == "int":
        if not (float(low).is_integer() and float(high).is_integer()):
            raise InputError(f"{where}: an int needs whole-number bounds (got low = {fmt(low)}, high = {fmt(high)})")
        if step is not None and not float(step).is_integer():
            raise InputError(f"{where}: an int's step must be a whole number")
        low, high = int(low), int(high)
        step = int(step) if step is not None else None
    return Dim(name, kind, low, high, log, step)


def categorical(name: str, choices: Any) -> Dim:
    where = f"parameter {json.dumps(name)}"
    if not isinstance(choices, list) or not choices:
        raise InputError(f"{where}: a categorical needs a non-empty list of choices (got {describe(choices)})")
    seen = set()
    for c in choices:
        if not is_param_value(c):
            raise InputError(f"{where}: choices must be strings, numbers or booleans (got {describe(c)})")
        if value_key(c) in seen:
            raise InputError(f"{where}: choice {json.dumps(c)} is listed twice")
        seen.add(value_key(c))
    return Dim(name, "categorical", choices=list(choices))


def value_key(v: Any) -> tuple[str, Any]:
    """A value's identity: 3 and 3.0 are the same value, True and 1 are not (as in JSON)."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    return ("s", v)


def snap(dim: Dim, value: Any) -> Any:
    """Returns value canonicalised for dim, or None when it does not belong to dim."""
    if dim.kind == "categorical":
        key = value_key(value) if is_param_value(value) else None
        return next((c for c in dim.choices if value_key(c) == key), None)
    if not is_number(value):
        return None
    step = dim.step if dim.step is not None else (1 if dim.kind == "int" else 0)
    slack = step * 1e-6 if step else (dim.high - dim.low) * 1e-12
    if value < dim.low - slack or value > dim.high + slack:
        return None
    if not step:
        return min(dim.high, max(dim.low, float(value)))
    k = round((value - dim.low) / step)
    return dim.level(min(int(dim.levels()) - 1, max(0, k)))


def point_key(dims: list[Dim], point: Any) -> tuple | None:
    """A point's identity in the space (its canonical values), or None when it is not in the space."""
    if not isinstance(point, dict) or set(point) != {d.name for d in dims}:
        return None
    values = []
    for d in dims:
        v = snap(d, point[d.name])
        if v is None:
            return None
        values.append(value_key(v))
    return tuple(values)


# ---------------------------------------------------------------------------------------------
# The input


@dataclass
class History:
    """The points of idds_input.json, in order, with their loss (None when there is none to use)."""

    points: list[tuple[Any, float | None]]

    def __len__(self) -> int:
        return len(self.points)


def read_input(path: str) -> tuple[History, Any]:
    """Reads and checks idds_input.json: (history, opt_space)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read input file {path} ({e.strerror})") from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"input file {path} is not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise InputError(f'input file {path} must hold an object {{"points": [...], "opt_space": ...}}')
    raw = doc.get("points") or []
    if not isinstance(raw, list):
        raise InputError(f'"points" in {path} must be a list of [point, loss] pairs')
    points: list[tuple[Any, float | None]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, list) or not 1 <= len(entry) <= 2 or not isinstance(entry[0], dict):
            raise InputError(
                f'"points"[{i}] in {path} must be [point, loss] with point an object; got {describe(entry)}'
            )
        loss = entry[1] if len(entry) == 2 else None
        points.append((entry[0], float(loss) if is_number(loss) else None))
    return History(points), doc.get("opt_space")


# ---------------------------------------------------------------------------------------------
# The optimizer


class Encoding:
    """Maps points of the space to the values of a nevergrad parametrization and back.

    Constant dimensions stay out of the parametrization. An int is a Scalar (or Log) over
    [low - 0.5, high + 0.5] with integer casting, so every integer owns an equal share; a float
    with a step and every categorical are indices (Choice, or TransitionChoice when the order means
    something), so values are matched exactly.
    """

    def __init__(self, ng: Any, dims: list[Dim]):
        self.dims = dims
        self.free = [d for d in dims if not d.is_constant()]
        entries = {d.name: self._parameter(ng, d) for d in self.free}
        self.parametrization = ng.p.Dict(**entries)

    @staticmethod
    def _parameter(ng: Any, d: Dim) -> Any:
        if d.kind == "categorical":
            indices = list(range(len(d.choices)))
            # A deterministic Choice proposes its most likely choice rather than sampling one, so a
            # mutation of the best point told changes only what the optimizer meant to change.
            return ng.p.TransitionChoice(indices) if d.ordered else ng.p.Choice(indices, deterministic=True)
        if d.kind == "float" and d.step is None:
            return (ng.p.Log if d.log else ng.p.Scalar)(lower=d.low, upper=d.high)
        if d.kind == "int" and d.step is None:
            scale = ng.p.Log if d.log else ng.p.Scalar
            return scale(lower=d.low - 0.5, upper=d.high + 0.5).set_integer_casting()
        return ng.p.Scalar(lower=-0.5, upper=d.levels() - 0.5).set_integer_casting()

    def to_value(self, point: dict[str, Any]) -> dict[str, Any] | None:
        """The parametrization's value of a point, or None when the point is not in the space."""
        if point_key(self.dims, point) is None:
            return None
        out: dict[str, Any] = {}
        for d in self.free:
            v = snap(d, point[d.name])
            if d.kind == "categorical":
                out[d.name] = next(i for i, c in enumerate(d.choices) if value_key(c) == value_key(v))
            elif d.step is None:
                out[d.name] = int(v) if d.kind == "int" else float(v)
            else:
                out[d.name] = int(round((v - d.low) / d.step))
        return out

    def to_point(self, value: dict[str, Any]) -> dict[str, Any]:
        """The point of a parametrization's value, with plain JSON types."""
        out: dict[str, Any] = {}
        for d in self.dims:
            if d.is_constant():
                out[d.name] = d.level(0)
                continue
            v = value[d.name]
            if d.kind == "categorical":
                out[d.name] = d.choices[int(v)]
            elif d.kind == "float" and d.step is None:
                out[d.name] = min(d.high, max(d.low, float(v)))
            elif d.kind == "int" and d.step is None:
                out[d.name] = min(int(d.high), max(int(d.low), int(round(float(v)))))
            else:
                out[d.name] = d.level(min(int(d.levels()) - 1, max(0, int(round(float(v))))))
        return out


def space_size(dims: list[Dim]) -> float:
    return math.prod(d.levels() for d in dims)


def load_nevergrad() -> Any:
    warnings.filterwarnings("ignore", message="Could not import matplotlib")
    warnings.filterwarnings("ignore", message="COBYLA: Invalid RHOEND")
    import nevergrad as ng

    warnings.filterwarnings("ignore", category=ng.errors.InefficientSettingsWarning)
    return ng


@dataclass
class Proposal:
    """What propose found, and how: the points, the optimizer, how many points were told and asked,
    and how many points were drawn uniformly because the optimizer kept proposing seen ones."""

    points: list[dict[str, Any]]
    optimizer: str
    told: int = 0
    asked: int = 0
    fallback: int = 0


def propose(
    ng: Any,
    dims: list[Dim],
    history: History,
    count: int,
    optimizer: str,
    seed: int | None,
    budget: int | None,
    tell_limit: int = 0,
) -> Proposal:
    """Replays the history into a fresh optimizer and asks it for count new distinct points."""
    enc = Encoding(ng, dims)
    if seed is not None:
        import numpy as np

        # Mixed with the number of points, so each generation of a seeded request draws afresh.
        state = np.random.SeedSequence([seed & 0xFFFFFFFF, len(history)]).generate_state(1)[0]
        enc.parametrization.random_state = np.random.RandomState(state)
    opt = make_optimizer(ng, optimizer, enc, budget, count)
    losses = [loss for _, loss in history.points if loss is not None]
    liar = max(losses) if losses else 0.0
    seen: dict[tuple, float] = {}
    told = told_indices(history, tell_limit)
    n_told = 0
    for i, (params, loss) in enumerate(history.points):
        key = point_key(dims, params)
        if key is None:
            continue  # not in the space (an older space, say): it cannot collide with a new point
        if key in seen:
            continue  # told once: nevergrad takes a second tell as a re-evaluation
        seen[key] = liar if loss is None else loss
        if enc.free and i in told:
            tell(opt, enc, enc.to_value(params), seen[key])
            n_told += 1
    size = space_size(dims)
    count = int(min(count, size - len(seen)))
    points: list[dict[str, Any]] = []
    if count <= 0:
        return Proposal(points, optimizer_name(optimizer, opt), n_told)
    asked = 0
    limit = 20 * count + 100
    every_ask_told = waits_for_tells(ng, opt)
    while len(points) < count and asked < limit and enc.free:
        candidate = opt.ask()
        asked += 1
        point = enc.to_point(candidate.value)
        key = point_key(dims, point)
        if key in seen:
            # Not told: a second tell of a point counts as a re-evaluation, and nevergrad then
            # trusts that point more than any point evaluated once (its "pessimistic" best).
            # Only the optimizers that recast scipy-style minimizers wait for every answer.
            if every_ask_told:
                opt.tell(candidate, seen[key] if seen[key] is not None else liar)
            continue
        opt.tell(candidate, liar)
        seen[key] = liar
        points.append(point)
    found = len(points)
    rng = random.Random(enc.parametrization.random_state.randint(2**31))
    fill_unseen(enc, dims, seen, points, count, rng)
    return Proposal(points, optimizer_name(optimizer, opt), n_told, asked, len(points) - found)


def waits_for_tells(ng: Any, opt: Any, depth: int = 0) -> bool:
    """Whether opt (or an optimizer inside it) recasts a minimizer that runs in a thread of its own
    and blocks until each point it asked for is told (Cobyla, SQP, Powell, ... and NGOpt's choices)."""
    from nevergrad.optimization.recaster import RecastOptimizer

    if isinstance(opt, RecastOptimizer):
        return True
    if depth > 4:
        return False
    inner = [getattr(opt, "optim", None)] if hasattr(type(opt), "optim") else []
    for v in list(vars(opt).values()) + inner:
        items = v if isinstance(v, (list, tuple)) else [v]
        for x in items:
            if isinstance(x, ng.optimizers.base.Optimizer) and x is not opt and waits_for_tells(ng, x, depth + 1):
                return True
    return False


def told_indices(history: History, limit: int) -> set[int]:
    """Which points are told: all of them, or past limit the best half (by loss) and the latest rest."""
    n = len(history)
    if limit <= 0 or n <= limit:
        return set(range(n))
    evaluated = sorted((loss, i) for i, (_, loss) in enumerate(history.points) if loss is not None)
    best = {i for _, i in evaluated[: limit // 2]}
    for i in range(n - 1, -1, -1):
        if len(best) >= limit:
            break
        best.add(i)
    return best


def make_optimizer(ng: Any, name: str, enc: Encoding, budget: int | None, count: int) -> Any:
    """The optimizer, told that count points are asked at once (one when it cannot run in parallel:
    each candidate is told, with the liar, as soon as it is asked, so one worker is enough)."""
    factory = ng.optimizers.registry[name]
    workers = 1 if getattr(factory, "no_parallelization", False) else max(1, count)
    return factory(parametrization=enc.parametrization, budget=budget, num_workers=workers)


def tell(opt: Any, enc: Encoding, value: dict[str, Any], loss: float) -> None:
    """Tells the optimizer a point it did not ask for (through suggest and ask where it cannot)."""
    try:
        opt.tell(enc.parametrization.spawn_child(new_value=value), loss)
    except Exception as e:  # noqa: BLE001 - TellNotAskedNotSupportedError, or a scipy-based optimizer's own
        if type(e).__name__ != "TellNotAskedNotSupportedError":
            raise
        opt.suggest(**value)
        opt.tell(opt.ask(), loss)


def fill_unseen(enc: Encoding, dims: list[Dim], seen: dict, points: list, count: int, rng: random.Random) -> None:
    """Tops points up to count with uniformly drawn unseen points when the optimizer kept repeating."""
    size = space_size(dims)
    if len(points) < count and enc.free:
        for _ in range(20 * count + 100):
            if len(points) >= count:
                return
            point = enc.to_point(enc.parametrization.sample().value)
            key = point_key(dims, point)
            if key not in seen:
                seen[key] = None
                points.append(point)
    if len(points) < count and size <= ENUMERATE_LIMIT:
        unseen = []
        for combo in itertools.product(*(range(int(d.levels())) for d in dims)):
            point = {d.name: d.level(i) for d, i in zip(dims, combo, strict=True)}
            if point_key(dims, point) not in seen:
                unseen.append(point)
        rng.shuffle(unseen)
        for point in unseen[: count - len(points)]:
            seen[point_key(dims, point)] = None
            points.append(point)


def optimizer_name(name: str, opt: Any) -> str:
    """The optimizer's registry name, with the algorithm NGOpt (or another selector) settled on."""
    inner = getattr(opt, "optim", None) if hasattr(type(opt), "optim") else None
    chosen = type(inner).__name__.lstrip("_") if inner is not None else name
    return name if chosen == name else f"{name} ({chosen})"


# ---------------------------------------------------------------------------------------------
# The command


def max_points_arg(text: str) -> int | None:
    t = text.strip()
    if t.lower() in UNCAPPED_WORDS:
        return None
    try:
        n = int(float(t))
    except ValueError:
        hint = " (the placeholder was not substituted)" if t.startswith("%") else ""
        raise argparse.ArgumentTypeError(f"must be a whole number or none; got {text!r}{hint}") from None
    return None if n < 0 else n


def count_arg(text: str) -> int:
    try:
        n = int(text.strip())
    except ValueError:
        hint = " (the placeholder was not substituted)" if text.strip().startswith("%") else ""
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {text!r}{hint}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {text!r}")
    return n


def seed_arg(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="nevergrad as an iDDS steering container")
    p.add_argument(
        "--max_points", "--max-points", type=max_points_arg, default=None, help="cap on all points; none = no cap"
    )
    p.add_argument("--num_points", "--num-points", type=count_arg, required=True, help="how many new points to write")
    p.add_argument("--input", required=True, help="idds_input.json")
    p.add_argument("--output", required=True, help="where to write the JSON list of new points")
    p.add_argument(
        "--optimizer",
        default=IDDS_OPTIMIZER,
        help=f"a name of nevergrad's optimizer registry (default {IDDS_OPTIMIZER}, iDDS's own)",
    )
    p.add_argument("--seed", type=seed_arg, default=None, help="makes the points reproducible")
    p.add_argument("--direction", choices=["minimize", "maximize"], default="minimize")
    p.add_argument(
        "--tell_limit",
        "--tell-limit",
        type=count_arg,
        default=TELL_LIMIT,
        help=f"tell at most this many points: the best half and the latest (default {TELL_LIMIT}; 0 = all)",
    )
    return p


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        history, opt_space = read_input(args.input)
        dims = compile_space(opt_space)
        if args.direction == "maximize":
            history = History([(p, None if loss is None else -loss) for p, loss in history.points])
        ng = load_nevergrad()
        if args.optimizer not in ng.optimizers.registry:
            parser().error(
                f"unknown --optimizer {args.optimizer!r}; use a name of nevergrad's registry, such as "
                "NGOpt, DiscreteOnePlusOne, OnePlusOne, CMA, TwoPointsDE, PSO, RandomSearch"
            )
        capped = args.max_points is not None and args.max_points < UNCAPPED
        room = (args.max_points - len(history)) if capped else args.num_points
        count = min(args.num_points, room)
        budget = args.max_points if capped else max(UNCAPPED_BUDGET, 2 * (len(history) + count))
        result = Proposal([], args.optimizer)
        if count > 0:
            try:
                result = propose(ng, dims, history, count, args.optimizer, args.seed, budget, args.tell_limit)
            except Exception as e:  # noqa: BLE001 - an optimizer that cannot work on this space or history
                traceback.print_exc()
                raise InputError(f"optimizer {args.optimizer} failed: {type(e).__name__}: {e}") from e
        if count > 0 and not result.points and math.isinf(space_size(dims)):
            raise InputError(f"the optimizer proposed no new point in {result.asked} tries")
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    write_output(args.output, result.points)
    evaluated = sum(1 for _, loss in history.points if loss is not None)
    print(
        f"{PROG}: wrote {len(result.points)} point(s) to {args.output} "
        f"(optimizer {result.optimizer}; history {evaluated} evaluated, {len(history) - evaluated} without a loss, "
        f"{result.told} told; {result.asked} asked, {result.fallback} drawn uniformly)",
        file=sys.stderr,
    )
    return 0


def write_output(path: str, points: list[dict[str, Any]]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(points, f)
        f.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
