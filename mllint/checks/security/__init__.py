"""Logic of the security rules (metadata in rules/security/)."""
