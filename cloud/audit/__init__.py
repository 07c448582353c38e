"""The audit log's integrity: hash-chained entries and their verification (AUD-1)."""

from cloud.audit.chain import (
    GENESIS_HASH,
    ChainEntry,
    Problem,
    ProblemKind,
    append,
    canonical_json,
    entry_hash,
    verify_chain,
)

__all__ = [
    "GENESIS_HASH",
    "ChainEntry",
    "Problem",
    "ProblemKind",
    "append",
    "canonical_json",
    "entry_hash",
    "verify_chain",
]
