"""The apps types."""
