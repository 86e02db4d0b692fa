"""The sawtooth_hyperledger_org types."""
