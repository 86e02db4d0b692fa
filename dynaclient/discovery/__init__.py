"""Discovery and the RESTMapper: the API server's groups and resources, their disk cache and documents.

Import the public names from the package root (``from dynaclient import Discovery, RESTMapper``).
"""
