"""Agent enrolment in the cloud (PRIVACY.md ACC-3): tokens, their sealed copies, attempt limits, the CA."""

from cloud.enrolment.attempts import AttemptWindow
from cloud.enrolment.context import EnrolmentContext, EnrolmentNotConfigured
from cloud.enrolment.sealing import TokenSeal
from cloud.enrolment.tokens import (
    Credential,
    IssuedToken,
    claim_token,
    credential_from,
    find_token,
    issue_token,
    new_agent_id,
    refusal,
)

__all__ = [
    "AttemptWindow",
    "Credential",
    "EnrolmentContext",
    "EnrolmentNotConfigured",
    "IssuedToken",
    "TokenSeal",
    "claim_token",
    "credential_from",
    "find_token",
    "issue_token",
    "new_agent_id",
    "refusal",
]
