"""Atelier: a self-hosted AI image platform."""

__version__ = "0.1.0"
