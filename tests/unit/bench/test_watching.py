"""P3's pieces that need no server: the recorder, the writer's result line, CPU sampling and the target file."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from bench.cases.watching import Recorder, WriterRun, cpu_sample, process_cpu_seconds, writer_command
from bench.clientgo_build import MODULE_DIR, _sources
from bench.run import parse_args
from bench.target import BenchTarget, WatchParameters


def test_the_recorder_keeps_the_first_sighting_of_its_own_numbers_only() -> None:
    recorder = Recorder("abc")
    recorder.on_update({}, {"data": {"seq": "abc:7"}})
    first = recorder.seen[7]
    recorder.on_update({}, {"data": {"seq": "abc:7"}})
    recorder.on_update({}, {"data": {"seq": "other:8"}})
    recorder.on_update({}, {"data": None})
    recorder.on_update({}, {})
    assert recorder.seen == {7: first}


def test_wait_seen_returns_at_once_when_everything_was_seen() -> None:
    recorder = Recorder("abc")
    recorder.on_update({}, {"data": {"seq": "abc:1"}})
    recorder.wait_seen({1}, timeout=60)  # would take a minute if it waited for nothing


def test_the_writer_line_gives_completion_times_of_the_successful_writes() -> None:
    line = {"ok": True, "start_ns": 5, "finished_ns": 9, "failures": 1, "sent_ns": [6, 7], "done_ns": [8, 0]}
    run = WriterRun.parse("noise\n" + json.dumps(line) + "\n", "", 0)
    assert (run.start_ns, run.finished_ns, run.failures, run.completed()) == (5, 9, 1, {1: 8})


def test_a_writer_error_or_silence_fails_the_case() -> None:
    with pytest.raises(RuntimeError, match="writer: boom"):
        WriterRun.parse(json.dumps({"ok": False, "error": "boom"}), "", 1)
    with pytest.raises(RuntimeError, match=r"printed nothing \(exit 2\): trace"):
        WriterRun.parse("", "trace", 2)


def test_the_writer_patches_only_the_watch_namespace(tmp_path: Path) -> None:
    target = BenchTarget("https://s", "/k", "", "", "", "bench-a", 10, 0, watch_namespace="bench-watch-b")
    command = writer_command(tmp_path / "w", target, "n1")
    assert "--namespace=bench-watch-b" in command
    assert not any("bench-a" in argument for argument in command)
    assert {"--mode=writer", "--objects=10", "--rate=1000", "--seconds=30", "--workers=16", "--nonce=n1"} <= set(
        command
    )


def test_cpu_sampling_reads_this_process_and_forgets_missing_ones() -> None:
    assert process_cpu_seconds(os.getpid()) >= 0
    assert math.isnan(process_cpu_seconds(2**22 + 1))  # above the largest pid Linux hands out
    sample = cpu_sample({"etcd": os.getpid()})
    assert set(sample) == {"etcd", "machine", "writer", "informer", "wall"}
    assert sample["machine"] > 0


def test_the_target_file_keeps_the_watch_namespace_and_server_pids(tmp_path: Path) -> None:
    target = BenchTarget(
        "https://s",
        "/k",
        "",
        "",
        "",
        "bench-a",
        10,
        0,
        watch=WatchParameters(rate=5, writers=3),
        watch_namespace="bench-watch-b",
        server_pids={"etcd": 1, "kube-apiserver": 2},
    )
    target.save(tmp_path / "t.json")
    assert BenchTarget.load(tmp_path / "t.json") == target


def test_the_binary_cache_key_covers_every_go_file() -> None:
    names = [path.name for path in _sources(MODULE_DIR)]
    assert {"go.mod", "go.sum", "main.go", "writer.go"} <= set(names)


def test_the_writer_concurrency_can_be_set_from_the_command_line() -> None:
    assert parse_args(["--watch-writers", "4"]).watch_writers == 4
    assert parse_args(["--quick"]).watch_rate == 200.0
