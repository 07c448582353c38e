"""Agent enrolment: own key and CSR, the enrol call to the cloud, and the enrolment status for doctor."""

from edge_agent.enrolment.client import ENROL_PATH, Enrolment, EnrolmentError, EnrolmentRefused, enroll
from edge_agent.enrolment.keys import generate_key_and_csr
from edge_agent.enrolment.status import EnrolmentStatus, enrolment_status

__all__ = [
    "ENROL_PATH",
    "Enrolment",
    "EnrolmentError",
    "EnrolmentRefused",
    "EnrolmentStatus",
    "enroll",
    "enrolment_status",
    "generate_key_and_csr",
]
