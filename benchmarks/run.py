"""Benchmarks this client side by side with the older one and raw urllib3.

One run on one machine, contenders alternated round after round, medians
reported as ratios:

- over loopback, against a canned AMcards server started here: single
  ``card(id)`` calls, cards listed with ``cards(limit=100)`` pages, and
  ``send_card`` calls, per second, for this client, the published
  ``python-amcards`` client and raw urllib3 with ``json.loads``;
- in process: parsing 10,000 card objects into models;
- ``python -X importtime``: ``import amcards`` (both clients) and
  ``import amcards.core.validators``, with the third-party modules each
  import loads;
- peak memory (tracemalloc) while ``iter_cards`` walks 10,000 and
  100,000 cards, against the size of one page of models.

The older client is installed once into its own virtual environment
(``benchmarks/.venv-older``), so the two packages named ``amcards`` never
meet; it is driven by ``worker.py`` in a subprocess, like the others, and
its ``DOMAIN`` is pointed at the loopback server before any call.

The server and the contenders share one CPU (``--pin same``); the HTTP
figures are then taken again, shorter, with the contenders on a CPU of
their own (``split``), and both tables are reported.

Usage::

    python benchmarks/run.py            # about two and a half minutes
    python benchmarks/run.py --quick    # a rougher figure in under one

The table is printed and written to ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from server import CannedServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "worker.py")
OLDER_VENV = os.path.join(HERE, ".venv-older")
OLDER_REQUIREMENT = "python-amcards==1.7.6"
RESULTS = os.path.join(HERE, "RESULTS.md")

CONTENDERS = ("new", "older", "floor")
HTTP_BENCHES = ("card", "cards", "send_card")
IMPORTS = (
    ("new", "amcards"),
    ("new", "amcards.core.validators"),
    ("older", "amcards"),
)


@dataclass(frozen=True)
class Settings:
    rounds: int
    seconds: float
    import_rounds: int
    memory_counts: tuple[int, ...]
    pin: str
    check_rounds: int
    check_seconds: float


FULL = Settings(
    rounds=7,
    seconds=1.0,
    import_rounds=9,
    memory_counts=(10_000, 100_000),
    pin="same",
    check_rounds=5,
    check_seconds=0.6,
)
QUICK = Settings(
    rounds=3,
    seconds=0.3,
    import_rounds=3,
    memory_counts=(10_000, 100_000),
    pin="same",
    check_rounds=2,
    check_seconds=0.3,
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The older client's environment -----------------------------------------


def venv_python(venv: str) -> str:
    if os.name == "nt":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def ensure_older_env(venv: str, requirement: str) -> str:
    """The Python of a virtual environment holding the older client."""
    python = venv_python(venv)
    marker = os.path.join(venv, "installed.txt")
    if os.path.exists(marker) and os.path.exists(python):
        with open(marker, encoding="utf-8") as file:
            if file.read().strip() == requirement:
                return python
    say(f"Installing {requirement} into {venv} (once)...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
    subprocess.run(
        [
            python,
            *("-m", "pip", "install", "--quiet"),
            "--disable-pip-version-check",
            requirement,
        ],
        check=True,
    )
    with open(marker, "w", encoding="utf-8") as file:
        file.write(requirement + "\n")
    return python


PYCACHE = os.path.join(tempfile.gettempdir(), "amcards-benchmark-pycache")
_DROPPED = {"PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}


def clean_env() -> dict[str, str]:
    """The environment for every child.

    No proxy and no extra import path.  Bytecode is cached, for every
    contender alike, under one prefix outside the checkout: an import
    that compiled its sources each time would be timed unfairly.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and key not in _DROPPED
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    return env


# CPU placement -------------------------------------------------------------

# Read before this process pins itself to one of them.
USABLE_CPUS = (
    sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
)


def cpu_plan(pin: str) -> tuple[set[int] | None, set[int] | None]:
    """CPUs for the server (this process) and for the contenders.

    ``same`` puts both on one CPU: a call then costs what the client and
    the server spend on it, with no hand-over between CPUs, which on a
    virtual machine adds a wake-up delay to every exchange and blurs the
    client's own cost.  ``split`` gives the server a CPU of its own, as a
    remote server would have.  ``none`` leaves it to the scheduler.
    """
    if pin == "none" or not USABLE_CPUS:
        return None, None
    first = USABLE_CPUS[0]
    if pin == "same" or len(USABLE_CPUS) < 2:
        return {first}, {first}
    return {first}, {USABLE_CPUS[1]}


def other_placement(pin: str) -> str | None:
    """The placement the HTTP figures are checked under as well."""
    if len(USABLE_CPUS) < 2:
        return None
    return {"same": "split", "split": "same"}.get(pin)


def pin_to(pid: int, cpus: set[int] | None) -> None:
    if cpus is not None:
        os.sched_setaffinity(pid, cpus)


# Workers -------------------------------------------------------------------


class Worker:
    """One contender's long-lived worker process, fed JSON commands."""

    def __init__(
        self,
        name: str,
        python: str,
        base_url: str,
        cpus: set[int] | None,
        cwd: str,
    ) -> None:
        self.name = name
        self._process = subprocess.Popen(
            [python, WORKER, name, "--serve", base_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=clean_env(),
        )
        self.pin(cpus)
        ready = self._read()
        self.module = ready["module"]
        self.version = ready["version"]

    def pin(self, cpus: set[int] | None) -> None:
        pin_to(self._process.pid, cpus)

    def run(self, bench: str, seconds: float) -> dict[str, Any]:
        stdin = self._pipe(self._process.stdin)
        stdin.write(json.dumps({"bench": bench, "seconds": seconds}) + "\n")
        stdin.flush()
        result = self._read()
        if "error" in result:
            raise RuntimeError(f"{self.name} {bench}:\n{result['error']}")
        return result

    def close(self) -> None:
        self._pipe(self._process.stdin).close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _read(self) -> dict[str, Any]:
        line = self._pipe(self._process.stdout).readline()
        if not line:
            code = self._process.wait()
            raise RuntimeError(f"the {self.name} worker exited ({code})")
        result: dict[str, Any] = json.loads(line)
        return result

    @staticmethod
    def _pipe(pipe: TextIO | None) -> TextIO:
        assert pipe is not None
        return pipe


@contextmanager
def workers(
    pythons: dict[str, str],
    base_url: str,
    cpus: set[int] | None,
    cwd: str,
) -> Iterator[dict[str, Worker]]:
    started: dict[str, Worker] = {}
    try:
        for name in CONTENDERS:
            started[name] = Worker(name, pythons[name], base_url, cpus, cwd)
        yield started
    finally:
        for worker in started.values():
            worker.close()


def rotated(items: Sequence[str], by: int) -> list[str]:
    """``items`` starting at a different one each round."""
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]


@dataclass
class Samples:
    """Per-round figures: samples[bench][contender] -> list of rates."""

    rates: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    connections: dict[str, dict[str, int]] = field(default_factory=dict)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, bench: str, who: str, rate: float) -> None:
        self.rates.setdefault(bench, {}).setdefault(who, []).append(rate)

    def count(self, bench: str, who: str, conns: int, calls: int) -> None:
        by_bench = self.connections.setdefault(bench, {})
        by_bench[who] = by_bench.get(who, 0) + conns
        by_calls = self.calls.setdefault(bench, {})
        by_calls[who] = by_calls.get(who, 0) + calls

    def median(self, bench: str, who: str) -> float:
        return statistics.median(self.rates[bench][who])

    def spread(self, bench: str, who: str) -> tuple[float, float]:
        values = self.rates[bench][who]
        return min(values), max(values)


def run_rounds(
    pool: dict[str, Worker],
    server: CannedServer,
    benches: Sequence[str],
    rounds: int,
    seconds: float,
) -> Samples:
    samples = Samples()
    for round_index in range(rounds):
        say(f"Round {round_index + 1} of {rounds}: {', '.join(benches)}")
        for bench in benches:
            for who in rotated(CONTENDERS, round_index):
                conns, calls = server.connections, server.requests
                result = pool[who].run(bench, seconds)
                samples.add(bench, who, result["rate"])
                samples.count(
                    bench,
                    who,
                    server.connections - conns,
                    server.requests - calls,
                )
    return samples


def check_placement(
    pool: dict[str, Worker],
    server: CannedServer,
    settings: Settings,
    skip: bool,
) -> tuple[str, Samples] | None:
    """The HTTP figures again, with the contenders on the other CPU."""
    other = other_placement(settings.pin)
    if skip or other is None or settings.check_rounds < 1:
        return None
    _, cpus = cpu_plan(other)
    for worker in pool.values():
        worker.pin(cpus)
    say(f"Checking the HTTP figures with CPU placement {other}")
    samples = run_rounds(
        pool,
        server,
        HTTP_BENCHES,
        settings.check_rounds,
        settings.check_seconds,
    )
    return other, samples


# Import times ----------------------------------------------------------------

_IMPORT_PROBE = """\
import sys
before = set(sys.modules)
sys.stderr.write("@@start\\n"); sys.stderr.flush()
import {module}
sys.stderr.write("@@end\\n"); sys.stderr.flush()
loaded = sorted(set(sys.modules) - before)
print(repr(loaded))
"""


@dataclass
class ImportFigure:
    micros: list[int] = field(default_factory=list)
    third_party: list[str] = field(default_factory=list)
    module_count: int = 0


def import_once(
    python: str, module: str, cwd: str, cpus: set[int] | None
) -> tuple[int, list[str]]:
    """Microseconds ``import module`` takes, and the modules it loads."""
    process = subprocess.Popen(
        [
            python,
            "-X",
            "importtime",
            "-c",
            _IMPORT_PROBE.format(module=module),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=clean_env(),
    )
    pin_to(process.pid, cpus)
    out, err = process.communicate(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"{python} -c 'import {module}' failed:\n{err}")
    lines = err.split("@@start\n", 1)[1].split("@@end\n", 1)[0]
    total = 0
    for line in lines.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name[1:].startswith(" "):  # top level, not nested
            total += int(cumulative)
    loaded: list[str] = ast.literal_eval(out.strip().splitlines()[-1])
    return total, loaded


def third_party(modules: list[str]) -> list[str]:
    """The top-level packages among ``modules`` outside the stdlib."""
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    tops = {name.split(".")[0] for name in modules}
    return sorted(top for top in tops - stdlib if top != "amcards")


def measure_imports(
    pythons: dict[str, str],
    rounds: int,
    cwds: dict[str, str],
    cpus: set[int] | None,
) -> dict[tuple[str, str], ImportFigure]:
    figures = {key: ImportFigure() for key in IMPORTS}
    for who, module in IMPORTS:  # warm up: bytecode caches written
        import_once(pythons[who], module, cwds[who], cpus)
    for round_index in range(rounds):
        order = rotated([f"{w}:{m}" for w, m in IMPORTS], round_index)
        for key in order:
            who, module = key.split(":", 1)
            micros, loaded = import_once(pythons[who], module, cwds[who], cpus)
            figure = figures[(who, module)]
            figure.micros.append(micros)
            figure.third_party = third_party(loaded)
            figure.module_count = len(loaded)
    return figures


# Memory -------------------------------------------------------------------


def measure_memory(
    counts: Sequence[int], base_url: str, cpus: set[int] | None, cwd: str
) -> dict[int, dict[str, Any]]:
    results = {}
    for count in counts:
        say(f"Walking {count:,} cards under tracemalloc")
        process = subprocess.Popen(
            [
                sys.executable,
                WORKER,
                "new",
                *("--memory", str(count)),
                *("--base-url", base_url),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env=clean_env(),
        )
        pin_to(process.pid, cpus)
        out, _ = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"the memory walk of {count} cards failed")
        results[count] = json.loads(out)
    return results


# The report ----------------------------------------------------------------


def per_second(value: float) -> str:
    return f"{value:,.0f}/s"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def kib(value: float) -> str:
    return f"{value / 1024:,.0f} KiB"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


@dataclass
class Report:
    rows: list[list[str]] = field(default_factory=list)
    targets: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def target(self, name: str, ok: bool) -> str:
        self.targets.append((name, ok))
        return verdict(ok)


HEADER = [
    "figure",
    "this client",
    "older client",
    "urllib3 floor",
    "this / older",
    "this / floor",
    "target",
    "",
]


def build_report(
    samples: Samples,
    imports: dict[tuple[str, str], ImportFigure],
    memory: dict[int, dict[str, Any]],
) -> Report:
    report = Report()
    http_rows = (
        ("card", "`card(id)` calls", "≥ 3x older, ≥ 0.8x floor"),
        ("cards", "cards listed, `cards(limit=100)`", "≥ 3x older"),
        ("send_card", "`send_card` calls", ""),
        ("parse", "10,000 cards parsed in process", ""),
    )
    for bench, label, goal in http_rows:
        new, older, floor = (samples.median(bench, w) for w in CONTENDERS)
        met = ""
        if bench == "card":
            met = (
                report.target("card(id) >= 3x older", new >= 3 * older)
                + " / "
                + report.target("card(id) >= 0.8x floor", new >= 0.8 * floor)
            )
        elif bench == "cards":
            met = report.target("listing >= 3x older", new >= 3 * older)
        report.row(
            label,
            per_second(new),
            per_second(older),
            per_second(floor),
            ratio(new / older),
            ratio(new / floor),
            goal,
            met,
        )

    new_import = statistics.median(imports[("new", "amcards")].micros)
    older_import = statistics.median(imports[("older", "amcards")].micros)
    validators = imports[("new", "amcards.core.validators")]
    validators_time = statistics.median(validators.micros)
    report.row(
        "`import amcards`",
        f"{new_import / 1000:.1f} ms",
        f"{older_import / 1000:.1f} ms",
        "",
        ratio(new_import / older_import),
        "",
        "≤ 0.5x older",
        report.target(
            "import amcards <= half", new_import <= older_import / 2
        ),
    )
    loaded = ", ".join(validators.third_party) or "none"
    report.row(
        "`import amcards.core.validators`",
        f"{validators_time / 1000:.1f} ms",
        "(no such module)",
        "",
        ratio(validators_time / older_import),
        "",
        "no third-party module",
        report.target(
            "validators load no third-party module",
            not validators.third_party,
        ),
    )
    report.notes.append(
        "Third-party packages loaded by `import amcards`: this client "
        f"{', '.join(imports[('new', 'amcards')].third_party) or 'none'}; "
        "the older client "
        f"{', '.join(imports[('older', 'amcards')].third_party) or 'none'}. "
        f"By `import amcards.core.validators`: {loaded}."
    )

    counts = sorted(memory)
    one_page = memory[counts[0]]["one_page_bytes"]
    for count in counts:
        peak = memory[count]["peak_bytes"]
        report.row(
            f"peak memory walking {count:,} cards",
            kib(peak),
            "",
            "",
            "",
            "",
            f"{peak / one_page:.1f} pages of models",
            "",
        )
    growth = memory[counts[-1]]["peak_bytes"] - memory[counts[0]]["peak_bytes"]
    report.row(
        f"growth of the peak, {counts[0]:,} → {counts[-1]:,} cards",
        kib(growth),
        "",
        "",
        "",
        "",
        f"≤ one page of models ({kib(one_page)})",
        report.target("memory flat: growth <= one page", growth <= one_page),
    )
    walker = memory[counts[-1]]["walker"]
    report.notes.append(
        f"Memory: `{walker}` walked the cards (page size 100); one page "
        f"of 100 `Card` models holds {kib(one_page)}."
    )
    for bench, label in (("card", "card(id)"), ("cards", "cards(limit=100)")):
        parts = []
        for who in CONTENDERS:
            calls = samples.calls[bench][who]
            conns = samples.connections[bench][who]
            parts.append(f"{who} {conns:,} for {calls:,} requests")
        report.notes.append(
            f"Connections opened during {label}: " + "; ".join(parts) + "."
        )
    return report


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |"]
    lines.append("|" + "|".join(" --- " for _ in HEADER) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def spread_table(samples: Samples) -> str:
    lines = [
        "| figure | contender | median | min | max |",
        "| --- | --- | --- | --- | --- |",
    ]
    for bench in (*HTTP_BENCHES, "parse"):
        for who in CONTENDERS:
            low, high = samples.spread(bench, who)
            lines.append(
                f"| {bench} | {who} | {per_second(samples.median(bench, who))}"
                f" | {per_second(low)} | {per_second(high)} |"
            )
    return "\n".join(lines)


def check_table(check: tuple[str, Samples]) -> list[str]:
    placement, samples = check
    lines = [
        f"## The HTTP figures with CPU placement `{placement}`",
        "",
        "The same calls, fewer and shorter rounds, with the contenders "
        "moved "
        + (
            "to a CPU of their own."
            if placement == "split"
            else "onto the server's CPU."
        ),
        "",
        "| figure | this client | older client | urllib3 floor "
        "| this / older | this / floor |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for bench in HTTP_BENCHES:
        new, older, floor = (samples.median(bench, w) for w in CONTENDERS)
        lines.append(
            f"| {bench} | {per_second(new)} | {per_second(older)} "
            f"| {per_second(floor)} | {ratio(new / older)} "
            f"| {ratio(new / floor)} |"
        )
    return [*lines, ""]


def environment_lines(
    settings: Settings,
    versions: dict[str, str],
    modules: dict[str, str],
    started: float,
) -> list[str]:
    return [
        f"- Date: {dt.date.today().isoformat()}; "
        f"{os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}.",
        f"- Contenders: this client {versions['new']} from this checkout; "
        f"python-amcards {versions['older']} (on requests) in its own "
        f"virtual environment; urllib3 {versions['floor']} with "
        "`json.loads`.",
        f"- {settings.rounds} rounds of {settings.seconds:g} s per figure "
        "and contender, the contenders' order rotating each round; "
        f"medians. Imports: {settings.import_rounds} runs each. "
        f"CPU placement: {settings.pin}. Whole run: "
        f"{time.monotonic() - started:.0f} s.",
        "- Modules: "
        + "; ".join(f"{who} `{_short(path)}`" for who, path in modules.items())
        + ".",
    ]


def _short(path: str) -> str:
    for root, name in ((REPO_ROOT, "."), (HERE, "benchmarks")):
        if path.startswith(root + os.sep):
            return name + path[len(root) :]
    parts = path.split(os.sep)
    return os.sep.join(parts[-3:])


def write_results(
    path: str,
    report: Report,
    samples: Samples,
    check: tuple[str, Samples] | None,
    environment: list[str],
    quick: bool,
) -> str:
    title = "# Benchmark results" + (" (quick run)" if quick else "")
    body = "\n".join(
        [
            title,
            "",
            "Written by `python benchmarks/run.py`; quote the ratios, not "
            "the absolute figures, which depend on the machine.",
            "",
            *environment,
            "",
            markdown_table(report.rows),
            "",
            *(f"- {note}" for note in report.notes),
            "",
            *(check_table(check) if check else []),
            "## Spread over the rounds",
            "",
            spread_table(samples),
            "",
            "## How to read it",
            "",
            "- The HTTP figures come from a canned server on 127.0.0.1 "
            "(keep-alive, one thread per connection) that answers in a few "
            "microseconds, so the client's own cost shows. Against the real "
            "service the network dominates and every contender is slower.",
            "- The floor is raw urllib3 (`PoolManager`, no retries) plus "
            "`json.loads`: it validates nothing and builds no model.",
            "- CPU placement `same` (the default): the server and the "
            "contender share one CPU, so a call costs what both spend on "
            "it. With `split` each has a CPU of its own, and every exchange "
            "also waits for the other CPU to wake up, a delay that is the "
            "same for every contender and narrows the ratios; it is checked "
            "in the second table.",
            "- The memory peaks are tracemalloc's, above what was allocated "
            "before the walk. Between the smaller and the larger walk the "
            "peak rises a little while CPython's small-object free lists "
            "fill up; they are capped, and the peak stops rising after "
            "about 100,000 cards.",
            "",
        ]
    )
    with open(path, "w", encoding="utf-8") as file:
        file.write(body)
    return body


# Main -----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark this client against python-amcards and "
        "raw urllib3."
    )
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--rounds", type=int, help="rounds of every figure")
    parser.add_argument(
        "--seconds", type=float, help="seconds per figure and contender"
    )
    parser.add_argument(
        "--pin",
        choices=("same", "split", "none"),
        help="CPU placement of server and client (default: same)",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the HTTP figures under the other CPU placement",
    )
    parser.add_argument(
        "--memory-counts",
        help="comma-separated walk lengths (default: 10000,100000)",
    )
    parser.add_argument("--older-venv", default=OLDER_VENV)
    parser.add_argument("--output", default=RESULTS)
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    base = QUICK if args.quick else FULL
    counts = base.memory_counts
    if args.memory_counts:
        counts = tuple(int(n) for n in args.memory_counts.split(","))
    return Settings(
        rounds=args.rounds or base.rounds,
        seconds=args.seconds or base.seconds,
        import_rounds=base.import_rounds,
        memory_counts=counts,
        pin=args.pin or base.pin,
        check_rounds=base.check_rounds,
        check_seconds=base.check_seconds,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = settings_from(args)
    started = time.monotonic()
    pythons = {
        "new": sys.executable,
        "floor": sys.executable,
        "older": ensure_older_env(args.older_venv, OLDER_REQUIREMENT),
    }
    server_cpus, client_cpus = cpu_plan(settings.pin)
    pin_to(0, server_cpus)
    with tempfile.TemporaryDirectory() as elsewhere:
        # The older client runs where this checkout is not importable.
        cwds = {"new": REPO_ROOT, "floor": elsewhere, "older": elsewhere}
        with CannedServer(total_cards=max(settings.memory_counts)) as server:
            say(f"Canned server at {server.base_url}")
            with workers(
                pythons, server.base_url, client_cpus, elsewhere
            ) as pool:
                modules = {who: pool[who].module for who in CONTENDERS}
                versions = {who: pool[who].version for who in CONTENDERS}
                samples = run_rounds(
                    pool,
                    server,
                    (*HTTP_BENCHES, "parse"),
                    settings.rounds,
                    settings.seconds,
                )
                check = check_placement(pool, server, settings, args.no_check)
            say("Timing imports")
            imports = measure_imports(
                pythons, settings.import_rounds, cwds, client_cpus
            )
            memory = measure_memory(
                settings.memory_counts, server.base_url, client_cpus, elsewhere
            )
    report = build_report(samples, imports, memory)
    environment = environment_lines(settings, versions, modules, started)
    body = write_results(
        args.output, report, samples, check, environment, args.quick
    )
    print(body)
    missed = [name for name, ok in report.targets if not ok]
    if missed:
        say("Targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
