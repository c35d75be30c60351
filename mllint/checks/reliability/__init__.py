"""Logic of the reliability rules (metadata in rules/reliability/)."""
