"""The informer's cache: the store and its indexes, keys, listers, interning, transforms and mutation detection.

Import the public names from the package root (``from informers import Store, Lister``).
"""
