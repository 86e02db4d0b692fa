"""Benchmarks of dynaclient and informers against the Python peers, kubectl and client-go (issue 6).

``python -m bench.run`` starts a local control plane, creates the objects, runs every case in a fresh process
(:mod:`bench.cases`) several times in alternating order, and writes ``bench/results/latest.{json,md,png}``.
"""
