"""mllint: a static linter for ML infrastructure manifests."""

__version__ = "0.1.0"
