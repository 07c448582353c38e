"""Domain services: plain async functions over a session, no web framework inside."""
