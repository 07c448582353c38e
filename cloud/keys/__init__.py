"""The ``mpm-cloud keys`` commands (master-key rotation)."""

from cloud.keys.cli import add_keys_commands, run_keys_command

__all__ = ["add_keys_commands", "run_keys_command"]
