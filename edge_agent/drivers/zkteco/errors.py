"""The one error a ZKTeco driver raises, whatever failed underneath."""


class DeviceError(Exception):
    """The terminal could not be reached, answered wrongly, refused, or timed out."""
