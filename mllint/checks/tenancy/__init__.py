"""Logic of the tenancy rules (metadata in rules/tenancy/)."""
