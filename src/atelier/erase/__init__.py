"""``erase``: remove captions, prices and watermarks from photos (docs/erase.md)."""
