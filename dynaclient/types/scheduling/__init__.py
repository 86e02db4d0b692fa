"""The scheduling types."""
