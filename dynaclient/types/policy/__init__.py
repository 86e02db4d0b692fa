"""The policy types."""
