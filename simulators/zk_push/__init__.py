"""A ZKTeco terminal pushing over ADMS (``mpm-sim zk-push``)."""

from simulators.zk_push.terminal import PushTerminal, ServerRefused

__all__ = ["PushTerminal", "ServerRefused"]
