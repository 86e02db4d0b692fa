"""P7 peers of examples/sawtooth_operator.py, run as their own processes by bench/cases/controlling.py."""
