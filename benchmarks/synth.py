"""Synthetic-universe generation speed and memory: `run_synth` at 100,000 enterprises (or any size).

Runs the full generator — global stage (property database, shocks, core enterprises) and every enterprise
chunk — into a temporary PUHUI_HOME and prints wall time, enterprises per second (overall and for the
enterprise chunks alone), peak resident memory (over the whole run and while chunks were being
generated, sampled every 0.1 s with psutil) and the size of the raw zone and truth on disk. Peak memory
should not grow with the number of enterprises: it is bounded by the chunk size.

    .venv/bin/python benchmarks/synth.py                        # 100,000 enterprises, chunks of 50,000
    .venv/bin/python benchmarks/synth.py --enterprises 1000000 --home /tmp/puhui-1m
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.table import Table

from puhui.data.synth.config import SynthConfig
from puhui.data.synth.runner import run_synth


class RssSampler(threading.Thread):
    """Samples this process's RSS; records the peak overall and after the first chunk marker appears."""

    def __init__(self, markers: Path, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.markers = markers
        self.interval = interval
        self.peak = 0
        self.peak_chunks = 0
        self.chunks_started_at: float | None = None
        self._halt = threading.Event()
        self._proc = psutil.Process()

    def run(self) -> None:
        while not self._halt.is_set():
            rss = self._proc.memory_info().rss
            self.peak = max(self.peak, rss)
            if self.chunks_started_at is None and (self.markers / "global.done").exists():
                self.chunks_started_at = time.perf_counter()
            if self.chunks_started_at is not None:
                self.peak_chunks = max(self.peak_chunks, rss)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--chunk-size", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--home", type=Path, default=None, help="where to write (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the output (default: delete it)")
    args = ap.parse_args()
    console = Console()
    home = args.home or Path(tempfile.mkdtemp(prefix="puhui-bench-"))
    config = SynthConfig(enterprises=args.enterprises, months=args.months, chunk_size=args.chunk_size,
                         seed=args.seed)  # fmt: skip
    sampler = RssSampler(home / "raw" / "_synth")
    sampler.start()
    started = time.perf_counter()
    try:
        report = run_synth(config, home=home, fresh=True, console=console)
    finally:
        sampler.stop()
    wall = time.perf_counter() - started
    chunk_secs = (time.perf_counter() - sampler.chunks_started_at) if sampler.chunks_started_at else float("nan")
    raw_bytes, truth_bytes = _size(home / "raw"), _size(home / "truth")
    rows = sum(v for k, v in report["rows"].items() if not k.startswith("truth/"))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    t = Table(title=f"puhui synth — {args.enterprises:,} enterprises × {args.months} months")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("wall time (all stages)", f"{wall:,.1f} s")
    t.add_row("enterprise chunks (after the global stage)", f"{chunk_secs:,.1f} s")
    t.add_row("enterprises / second (overall)", f"{args.enterprises / wall:,.0f}")
    t.add_row("enterprises / second (chunks)", f"{args.enterprises / chunk_secs:,.0f}")
    t.add_row("raw rows written", f"{rows:,}")
    t.add_row("raw rows / second (overall)", f"{rows / wall:,.0f}")
    t.add_row("peak RSS (whole run, getrusage)", f"{max_rss / 2**20:,.0f} MiB")
    t.add_row("peak RSS while generating chunks", f"{sampler.peak_chunks / 2**20:,.0f} MiB")
    t.add_row("chunk size / chunks", f"{args.chunk_size:,} / {report['chunks']}")
    t.add_row("raw zone on disk", f"{raw_bytes / 2**20:,.0f} MiB")
    t.add_row("truth on disk", f"{truth_bytes / 2**20:,.0f} MiB")
    t.add_row("machine", f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} CPUs, "
                         f"{psutil.virtual_memory().total / 2**30:.0f} GiB")  # fmt: skip
    console.print(t)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
