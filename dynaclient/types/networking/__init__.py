"""The networking types."""
