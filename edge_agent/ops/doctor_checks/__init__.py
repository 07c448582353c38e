"""The individual ``mpm-agent doctor`` checks; ``edge_agent/ops/doctor.py`` runs them as a table."""

from edge_agent.ops.doctor_checks.result import CheckResult, DoctorLimits, Status

__all__ = ["CheckResult", "DoctorLimits", "Status"]
