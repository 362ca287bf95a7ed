"""The package version, in its own module so that lower layers need not import the package face."""

__version__ = "0.1.0"
