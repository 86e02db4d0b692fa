"""The apiextensions types."""
