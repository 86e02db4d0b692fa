"""The authentication types."""
