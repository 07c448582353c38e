"""Live displays: the ranking projection for each sign and its debounced, retained publication."""
