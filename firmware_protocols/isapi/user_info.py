"""UserInfo JSON: add, delete and search people on the device (erasure, PRIVACY.md DEL-1).

- ``POST /ISAPI/AccessControl/UserInfo/Record?format=json``  ``{"UserInfo": {...}}``
- ``PUT  /ISAPI/AccessControl/UserInfo/Delete?format=json``
  ``{"UserInfoDelCond": {"EmployeeNoList": [...]}}``
- ``POST /ISAPI/AccessControl/UserInfo/Search?format=json``  ``{"UserInfoSearchCond": {...}}``
  → ``{"UserInfoSearch": {"responseStatusStrg", "numOfMatches", "totalMatches", "UserInfo": [...]}}``
Writes answer a ``ResponseStatus`` (see ``settings``).
"""

from __future__ import annotations

from typing import Any, Final

from firmware_protocols.isapi import _json as j
from firmware_protocols.isapi.acs_event import search_status
from firmware_protocols.isapi.errors import IsapiProtocolError
from firmware_protocols.isapi.messages import SearchStatus, UserInfo, UserSearchCond, UserSearchPage

RECORD_PATH: Final = "/ISAPI/AccessControl/UserInfo/Record?format=json"
DELETE_PATH: Final = "/ISAPI/AccessControl/UserInfo/Delete?format=json"
SEARCH_PATH: Final = "/ISAPI/AccessControl/UserInfo/Search?format=json"


def _user_json(user: UserInfo) -> dict[str, Any]:
    return {"employeeNo": user.employee_no, "name": user.name, "userType": user.user_type}


def _user(item: object, where: str) -> UserInfo:
    obj = j.require_object(item, where)
    employee_no = j.optional_text(obj, "employeeNo", where)
    if employee_no is None:
        raise IsapiProtocolError(f"{where}.employeeNo: missing")
    return UserInfo(
        employee_no=employee_no,
        name=j.optional_text(obj, "name", where) or "",
        user_type=j.optional_text(obj, "userType", where) or "normal",
    )


def encode_record(user: UserInfo) -> bytes:
    """Add one user."""
    return j.dump({"UserInfo": _user_json(user)})


def decode_record(body: bytes) -> UserInfo:
    """Device role: read an add-user request."""
    return _user(j.load_object(body, "UserInfo").get("UserInfo"), "UserInfo")


def encode_delete(employee_nos: tuple[str, ...]) -> bytes:
    """Delete the given users."""
    return j.dump({"UserInfoDelCond": {"EmployeeNoList": [{"employeeNo": e} for e in employee_nos]}})


def decode_delete(body: bytes) -> tuple[str, ...]:
    """Device role: the employee numbers a delete request names."""
    cond = j.member(j.load_object(body, "UserInfoDelCond"), "UserInfoDelCond", "body")
    return tuple(_employee_list(cond, "UserInfoDelCond"))


def _employee_list(cond: dict[str, Any], where: str) -> list[str]:
    numbers = []
    for item in j.items(cond, "EmployeeNoList", where):
        number = j.optional_text(j.require_object(item, f"{where}.EmployeeNoList[]"), "employeeNo", where)
        if number is not None:
            numbers.append(number)
    return numbers


def encode_search(cond: UserSearchCond) -> bytes:
    """One search page request."""
    body: dict[str, Any] = {
        "searchID": cond.search_id,
        "searchResultPosition": cond.position,
        "maxResults": cond.max_results,
    }
    if cond.employee_nos:
        body["EmployeeNoList"] = [{"employeeNo": e} for e in cond.employee_nos]
    return j.dump({"UserInfoSearchCond": body})


def decode_search(body: bytes) -> UserSearchCond:
    """Device role: read a search request."""
    where = "UserInfoSearchCond"
    obj = j.member(j.load_object(body, where), where, "body")
    return UserSearchCond(
        search_id=j.optional_text(obj, "searchID", where) or "",
        position=j.integer(obj, "searchResultPosition", where, 0),
        max_results=j.integer(obj, "maxResults", where, 30),
        employee_nos=tuple(_employee_list(obj, where)),
    )


def encode_search_page(page: UserSearchPage) -> bytes:
    """Device role: one search reply."""
    body: dict[str, Any] = {
        "searchID": page.search_id,
        "responseStatusStrg": page.status.value,
        "numOfMatches": len(page.users),
        "totalMatches": page.total_matches,
    }
    if page.users:
        body["UserInfo"] = [_user_json(u) for u in page.users]
    return j.dump({"UserInfoSearch": body})


def decode_search_page(body: bytes) -> UserSearchPage:
    """Agent role: one search reply."""
    obj = j.member(j.load_object(body, "UserInfoSearch"), "UserInfoSearch", "body")
    where = "UserInfoSearch"
    users = tuple(_user(item, f"{where}.UserInfo[]") for item in j.items(obj, "UserInfo", where))
    status = search_status(j.text(obj, "responseStatusStrg", where))
    if status is SearchStatus.NO_MATCH and users:
        raise IsapiProtocolError("UserInfoSearch: NO MATCH with users")
    return UserSearchPage(
        search_id=j.optional_text(obj, "searchID", where) or "",
        status=status,
        total_matches=j.integer(obj, "totalMatches", where, len(users)),
        users=users,
    )
