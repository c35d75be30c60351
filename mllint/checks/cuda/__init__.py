"""Logic of the cuda rules (metadata in rules/cuda/)."""
