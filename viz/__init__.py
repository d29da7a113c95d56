"""Network pictures with pyvis."""
