from __future__ import annotations

import threading

from dynaclient.resources._page_workers import PageWorkers


def test_every_job_runs_even_when_its_worker_was_about_to_leave() -> None:
    # A linger this short makes workers time out between jobs all the time: a job given to a worker whose wait
    # has just ended must still run (it finds itself taken, and waits on).
    workers = PageWorkers("test-worker", linger=1e-5)
    done = [threading.Event() for _ in range(300)]
    for event in done:
        workers.run(lambda: None, event.set)
    assert all(event.wait(10) for event in done)
    workers.close()


def test_a_worker_is_idle_when_its_job_is_reported_done_and_closing_ends_it() -> None:
    workers = PageWorkers("test-worker", linger=60)
    ran_in: list[threading.Thread] = []
    for _ in range(3):
        done = threading.Event()
        workers.run(lambda: ran_in.append(threading.current_thread()), done.set)
        assert done.wait(10)
    assert len(set(ran_in)) == 1  # each job found the worker of the one before idle
    workers.close()
    ran_in[0].join(10)
    assert not ran_in[0].is_alive()


def test_a_busy_worker_ends_after_its_job_once_closed() -> None:
    workers = PageWorkers("test-worker", linger=60)
    started, release, done = threading.Event(), threading.Event(), threading.Event()
    running: list[threading.Thread] = []

    def job() -> None:
        running.append(threading.current_thread())
        started.set()
        release.wait(10)

    workers.run(job, done.set)
    assert started.wait(10)
    workers.close()
    release.set()
    assert done.wait(10)
    running[0].join(10)
    assert not running[0].is_alive()
