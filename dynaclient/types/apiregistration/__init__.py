"""The apiregistration types."""
