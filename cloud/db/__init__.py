"""Database layer: typed models, the async engine and migrations."""
