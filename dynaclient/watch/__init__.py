"""Watches: the watch-event decoder and the closable Watch stream.

Import the public names from the package root (``from dynaclient import Watch, WatchEvent``).
"""
