"""pytest configuration for ``bench/``.

``operators/kopf_sawtooth.py`` is a program that ``kopf run`` loads (it needs the ``bench`` extra), not a module whose
doctests the suite collects.
"""

collect_ignore = ["operators/kopf_sawtooth.py"]
