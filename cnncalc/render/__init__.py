"""Renderers: the only code that turns an Analysis into text. Machine formats bypass rich."""
