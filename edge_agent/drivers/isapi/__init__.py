"""Hikvision ISAPI face terminal: pull AcsEvent or follow the alertStream, Digest auth (PROTOCOLS.md §4)."""
