"""Tests of the nevergrad generator: the space forms, the protocol (points, [] and exit codes), the
replay of the history and the pins. Run with the Python of setup-venv.sh: `python -m pytest`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest

import main

HERE = Path(__file__).resolve().parent

IDDS_SPACE = {
    "A": {"type": "Choice", "params": {"choices": [1, 2, 3, 4]}},
    "B": {"type": "Scalar", "bounds": [0, 5]},
    "C": {"type": "TransitionChoice", "params": {"choices": ["low", "mid", "high"]}},
    "D": {"type": "Log", "bounds": [1e-4, 1e-1]},
    "E": {"type": "Array", "params": {"shape": [1]}, "bounds": [-1, 1]},
    "F": {"type": "Scalar", "params": {"lower": 1, "upper": 8, "integer": True}},
}
CANONICAL_SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 0.1, "log": True},
    "layers": {"type": "int", "low": 1, "high": 8},
    "units": {"type": "int", "low": 16, "high": 512, "log": True},
    "dropout": {"type": "float", "low": 0, "high": 0.5, "step": 0.1},
    "batch": {"type": "int", "low": 32, "high": 256, "step": 32},
    "opt": {"type": "categorical", "choices": ["adam", "sgd", True, 1]},
    "fixed": {"type": "float", "low": 3, "high": 3},
}
IDDS_HISTORY = [
    [{"A": 1, "B": 0.5, "C": "low", "D": 0.001, "E": 0.0, "F": 3}, 0.8],
    [{"A": 2, "B": 4.5, "C": "high", "D": 0.05, "E": -0.5, "F": 8}, 0.2],
    [{"A": 3, "B": 2.5, "C": "mid", "D": 0.0031622776601683794, "E": 0.0, "F": 5}, None],
    [{"A": 4, "B": 1.0, "C": "mid", "D": 0.0001, "E": 1.0, "F": 1}, "failed"],
]


# --- an independent reading of the space, so the generator's own code does not judge itself ---


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_value(entry: dict, v) -> str | None:
    t = entry["type"]
    if t in ("Choice", "TransitionChoice", "categorical"):
        choices = entry.get("params", entry)["choices"]
        return None if any(type(c) is type(v) and c == v for c in choices) else f"{v!r} not a choice"
    if not number(v):
        return f"{v!r} is not a number"
    if t == "categorical":
        return None
    if "bounds" in entry:
        low, high = entry["bounds"]
    elif "params" in entry:
        low, high = entry["params"]["lower"], entry["params"]["upper"]
    else:
        low, high = entry["low"], entry["high"]
    if not low <= v <= high:
        return f"{v!r} outside [{low}, {high}]"
    integer = t == "int" or entry.get("params", {}).get("integer") is True
    if integer and type(v) is not int:
        return f"{v!r} is not an int"
    step = entry.get("step")
    if step is not None:
        k = (v - low) / step
        if abs(k - round(k)) > 1e-9 or v != round(v, 10):
            return f"{v!r} is not on the grid of step {step}"
    return None


def check_point(space: dict, point: dict) -> None:
    assert set(point) == set(space), point
    for name, entry in space.items():
        problem = check_value(entry, point[name])
        assert problem is None, f"{name}: {problem} in {point}"


def key(point: dict) -> str:
    """A point's identity as the operator sees it: whole-number floats equal ints, True is not 1."""

    def canon(v):
        return float(v) if number(v) else v

    return json.dumps({k: [type(v).__name__ == "bool", canon(v)] for k, v in sorted(point.items())})


# --- helpers ---


@pytest.fixture(scope="session")
def ng():
    return main.load_nevergrad()


def generate(tmp_path: Path, doc, *flags: str, num_points: int = 5, max_points="20"):
    """Runs the generator in-process as the operator calls it; returns (exit code, points, stderr)."""
    (tmp_path / "idds_input.json").write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    out = tmp_path / "output.json"
    out.unlink(missing_ok=True)
    argv = [
        f"--max_points={max_points}",
        f"--num_points={num_points}",
        f"--input={tmp_path / 'idds_input.json'}",
        f"--output={out}",
        *flags,
    ]
    code = main.run(argv)
    return code, (json.loads(out.read_text()) if out.exists() else None)


# --- the search space ---


def test_reads_the_idds_nevergrad_forms():
    dims = {d.name: d for d in main.compile_space(IDDS_SPACE)}
    assert dims["A"].kind == "categorical" and dims["A"].choices == [1, 2, 3, 4] and not dims["A"].ordered
    assert dims["C"].ordered
    assert (dims["B"].kind, dims["B"].low, dims["B"].high, dims["B"].log) == ("float", 0, 5, False)
    assert (dims["D"].kind, dims["D"].log) == ("float", True)
    assert (dims["E"].kind, dims["E"].low, dims["E"].high) == ("float", -1, 1)
    assert (dims["F"].kind, dims["F"].low, dims["F"].high) == ("int", 1, 8)
    n = main.compile_space({"n": {"type": "Choice", "params": {"choices": 3}}})[0]
    assert n.choices == [0, 1, 2]


def test_reads_the_canonical_form_and_the_other_idds_forms():
    dims = {d.name: d for d in main.compile_space(CANONICAL_SPACE)}
    assert (dims["units"].kind, dims["units"].log) == ("int", True)
    assert dims["dropout"].levels() == 6 and dims["dropout"].level(3) == 0.3
    assert dims["batch"].levels() == 8
    assert dims["fixed"].is_constant()
    other = {d.name: d for d in main.compile_space({"a": [1, 4], "b": ["x", "y"], "c": 7})}
    assert (other["a"].kind, other["b"].kind, other["c"].choices) == ("float", "categorical", [7])


@pytest.mark.parametrize(
    "space, message",
    [
        (None, "opt_space is null"),
        ({}, "no parameters"),
        ([1, 2], "must be a map"),
        ({"v": {"type": "Array", "params": {"shape": [2]}, "bounds": [0, 1]}}, 'parameter "v": an Array of shape'),
        ({"v": {"type": "Scalar", "params": {"repetitions": 3}, "bounds": [0, 1]}}, "repetitions"),
        ({"v": {"type": "Scalar"}}, 'parameter "v": a Scalar needs bounds'),
        ({"v": {"type": "Gaussian", "bounds": [0, 1]}}, 'unknown type "Gaussian"'),
        ({"v": {"bounds": [0, 1]}}, 'missing "type"'),
        ({"v": {"type": "float", "low": 2, "high": 1}}, "high (1) must not be below low (2)"),
        ({"v": {"type": "float", "low": 0, "high": 1, "log": True}}, "a log scale needs low > 0"),
        ({"v": {"type": "int", "low": 0.5, "high": 3}}, "whole-number bounds"),
        ({"v": {"type": "categorical", "choices": ["a", "a"]}}, 'choice "a" is listed twice'),
        ({"v": {"type": "categorical", "choices": []}}, "non-empty list of choices"),
        ({"v": [3, 1]}, "must be given as [low, high]"),
    ],
)
def test_rejects_bad_spaces_naming_the_parameter(space, message):
    with pytest.raises(main.InputError) as err:
        main.compile_space(space)
    assert message in str(err.value)


# --- the protocol ---


@pytest.mark.parametrize(
    "optimizer", ["NGOpt", "DiscreteOnePlusOne", "OnePlusOne", "CMA", "TwoPointsDE", "RandomSearch", "Cobyla"]
)
def test_writes_num_points_new_distinct_points_in_the_space(tmp_path, optimizer):
    doc = {"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}
    code, points = generate(tmp_path, doc, f"--optimizer={optimizer}", num_points=6)
    assert code == 0
    assert len(points) == 6
    for p in points:
        check_point(IDDS_SPACE, p)
    keys = [key(p) for p in points]
    assert len(set(keys)) == 6
    assert not set(keys) & {key(p) for p, _ in IDDS_HISTORY}


def test_the_default_optimizer_is_idds_own(tmp_path, capsys):
    # iDDS's nevergrad steering (idds-atlas processing/hyperparameteropt_nevergrad.py) uses
    # DiscreteOnePlusOne: an iDDS user's method nevergrad keeps behaving as it did there.
    assert main.parser().parse_args(["--num_points=1", "--input=i", "--output=o"]).optimizer == "DiscreteOnePlusOne"
    code, points = generate(tmp_path, {"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}, num_points=3)
    assert code == 0 and len(points) == 3
    assert "(optimizer DiscreteOnePlusOne" in capsys.readouterr().err


def test_canonical_space_values_have_their_types(tmp_path):
    code, points = generate(tmp_path, {"points": [], "opt_space": CANONICAL_SPACE}, "--seed=3", num_points=12)
    assert code == 0 and len(points) == 12
    for p in points:
        check_point(CANONICAL_SPACE, p)
        assert p["fixed"] == 3
    assert len({key(p) for p in points}) == 12


def test_writes_empty_list_once_max_points_are_reached(tmp_path):
    doc = {"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}
    assert generate(tmp_path, doc, max_points="4") == (0, [])
    assert generate(tmp_path, doc, max_points="3") == (0, [])
    code, points = generate(tmp_path, doc, max_points="6", num_points=5)
    assert code == 0 and len(points) == 2


@pytest.mark.parametrize("max_points", ["1000000", "None", "-1"])
def test_uncapped_requests_get_num_points(tmp_path, max_points):
    code, points = generate(tmp_path, {"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}, max_points=max_points)
    assert code == 0 and len(points) == 5


def test_pending_and_failed_points_are_never_proposed_again(tmp_path):
    space = {
        "a": {"type": "Choice", "params": {"choices": [1, 2]}},
        "b": {"type": "categorical", "choices": ["x", "y", "z"]},
    }
    history = [
        [{"a": 1, "b": "x"}, 0.5],
        [{"a": 1, "b": "y"}, None],
        [{"a": 2, "b": "z"}, "failed"],
        [{"a": 2.0, "b": "x"}, None],
    ]
    code, points = generate(
        tmp_path, {"points": history, "opt_space": space}, "--optimizer=DiscreteOnePlusOne", num_points=5
    )
    assert code == 0
    assert sorted(points, key=key) == sorted([{"a": 1, "b": "z"}, {"a": 2, "b": "y"}], key=key)
    history += [[p, None] for p in points]
    assert generate(tmp_path, {"points": history, "opt_space": space}) == (0, [])


@pytest.mark.parametrize("optimizer", ["OnePlusOne", "NGOpt"])
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_the_history_steers_the_optimizer(tmp_path, optimizer, direction):
    """The best point of the history draws the proposals to it: with x = 90 the best of 0, 10, ...,
    100 they sit well above those made when x = 10 is the best (uniform proposals would not move)."""
    space = {"x": {"type": "float", "low": 0, "high": 100}}
    sign = 1 if direction == "minimize" else -1
    medians = []
    for best in (90, 10):
        history = [[{"x": float(x)}, sign * (0.0 if x == best else 10.0)] for x in range(0, 101, 10)]
        flags = (f"--optimizer={optimizer}", f"--direction={direction}", "--seed=5")
        code, points = generate(tmp_path, {"points": history, "opt_space": space}, *flags, num_points=8)
        assert code == 0 and len(points) == 8
        medians.append(sorted(p["x"] for p in points)[4])
    assert medians[0] - medians[1] > 25, medians  # 39 to 78 over seeds 0-19


@pytest.mark.parametrize("optimizer", ["DiscreteOnePlusOne", "OnePlusOne"])
def test_discrete_proposals_are_mutations_of_the_best_point(tmp_path, optimizer):
    space = {f"c{i}": {"type": "Choice", "params": {"choices": [0, 1, 2, 3, 4]}} for i in range(6)}
    rng = __import__("random").Random(5)
    history = [[{k: rng.randrange(5) for k in space}, 10.0] for _ in range(20)]
    best = {k: rng.randrange(5) for k in space}
    history.insert(7, [best, 0.0])
    code, points = generate(
        tmp_path,
        {"points": history, "opt_space": space},
        f"--optimizer={optimizer}",
        "--seed=5",
        num_points=8,
        max_points="100",
    )
    assert code == 0 and len(points) == 8
    distance = sum(sum(p[k] != best[k] for k in space) for p in points) / len(points)
    assert distance < 3, distance  # about 1.5 (1.1 to 2.2 over seeds 0-19); uniform points: 4.8


def test_a_seed_makes_the_points_reproducible_and_each_generation_fresh(tmp_path):
    doc = {"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}
    first = generate(tmp_path, doc, "--seed=11")
    assert generate(tmp_path, doc, "--seed=11") == first
    later = generate(tmp_path, {"points": IDDS_HISTORY[:3], "opt_space": IDDS_SPACE}, "--seed=11")
    assert later != first


def test_a_long_history_is_told_in_part_and_still_never_repeated(tmp_path, capsys):
    space = {"a": {"type": "int", "low": 1, "high": 60}, "b": {"type": "int", "low": 1, "high": 60}}
    history = [[{"a": 1 + i // 60, "b": 1 + i % 60}, float(i % 13)] for i in range(3590)]
    started = time.monotonic()
    code, points = generate(
        tmp_path, {"points": history, "opt_space": space}, "--tell_limit=200", num_points=8, max_points="None"
    )
    assert code == 0
    assert time.monotonic() - started < 120
    unseen = {key({"a": 60, "b": b}) for b in range(51, 61)}
    assert len(points) == 8 and len({key(p) for p in points}) == 8
    assert {key(p) for p in points} <= unseen
    assert "200 told" in capsys.readouterr().err


@pytest.mark.parametrize(
    "doc, message",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", 'must hold an object {"points": [...], "opt_space": ...}'),
        ({"points": {"a": 1}, "opt_space": IDDS_SPACE}, '"points" in'),
        ({"points": [[1, 0.5]], "opt_space": IDDS_SPACE}, '"points"[0] in'),
        ({"points": [], "opt_space": None}, "opt_space is null"),
        (
            {"points": [], "opt_space": {"lr": {"type": "Log", "bounds": [0, 1]}}},
            'parameter "lr": a log scale needs low > 0',
        ),
    ],
)
def test_bad_input_exits_1_with_one_clear_line(tmp_path, capsys, doc, message):
    code, points = generate(tmp_path, doc)
    assert code == 1 and points is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("nevergrad-generator: ") and message in err[-1], err


def test_a_missing_input_file_exits_1(tmp_path, capsys):
    code = main.run(["--num_points=2", f"--input={tmp_path / 'nope.json'}", f"--output={tmp_path / 'o.json'}"])
    assert code == 1
    assert "cannot read input file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--num_points=%NUM_POINTS"], "the placeholder was not substituted"),
        (["--num_points=2", "--max_points=lots"], "--max_points"),
        (["--num_points=2", "--optimizer=Magic"], "unknown --optimizer 'Magic'"),
        (["--num_points=2", "--seed=x"], "--seed"),
    ],
)
def test_bad_flags_exit_2(tmp_path, capsys, flags, message):
    (tmp_path / "in.json").write_text(json.dumps({"points": [], "opt_space": IDDS_SPACE}))
    with pytest.raises(SystemExit) as exit_:
        main.run([*flags, f"--input={tmp_path / 'in.json'}", f"--output={tmp_path / 'o.json'}"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_runs_as_the_container_does_and_writes_only_its_output(tmp_path):
    """As in the pod: file names relative to the working directory, HOME elsewhere, nothing else written."""
    (tmp_path / "idds_input.json").write_text(json.dumps({"points": IDDS_HISTORY, "opt_space": IDDS_SPACE}))
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    before = {p.name for p in HERE.iterdir()}
    run = subprocess.run(
        [
            sys.executable,
            str(HERE / "main.py"),
            "--max-points=10",
            "--num-points=3",
            "--input=idds_input.json",
            "--output=output.json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "wrote 3 point(s) to output.json" in run.stderr
    assert len(json.loads((tmp_path / "output.json").read_text())) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "idds_input.json", "output.json"]
    assert list(home.iterdir()) == []
    assert {p.name for p in HERE.iterdir()} == before


# --- the pins and the image ---


def pins(file: Path) -> dict[str, str]:
    out = {}
    for line in file.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            out.update(pins(file.parent / line[3:].strip()))
        elif line:
            name, sep, version = line.partition("==")
            assert sep, f"{file.name}: {line!r} is not pinned with =="
            out[name.lower().replace("_", "-")] = version
    return out


def test_every_installed_package_is_pinned():
    installed = {d.metadata["Name"].lower().replace("_", "-"): d.version for d in metadata.distributions()}
    installed = {k: v for k, v in installed.items() if k not in ("pip", "setuptools", "wheel")}
    assert installed == pins(HERE / "requirements-test.txt")
    runtime = pins(HERE / "requirements.txt")
    assert runtime["nevergrad"] == metadata.version("nevergrad") and "pytest" not in runtime


def test_the_dockerfile_runs_main_as_a_numeric_non_root_user():
    text = (HERE / "Dockerfile").read_text()
    assert "COPY requirements.txt" in text and "-r /app/requirements.txt" in text
    assert "COPY main.py /app/main.py" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert "PYTHONDONTWRITEBYTECODE=1" in text and "WORKDIR /data" in text
