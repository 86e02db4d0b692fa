"""The admissionregistration types."""
