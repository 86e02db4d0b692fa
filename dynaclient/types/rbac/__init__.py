"""The rbac types."""
