"""The dynamic client and its resource clients: the verbs, request building, options, lazy lists, list decoding.

Import the public names from the package root (``from dynaclient import DynamicClient, ResourceClient``).
"""
