"""Who a caller is: the roles every REST route and WebSocket command is declared for."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """A caller's role; a new role is a new member here and a column of the route table."""

    OPERATOR = "operator"  # the desktop and trusted local callers
    APPROVER = "approver"  # the photographer's own paired phone
    CLIENT = "client"  # a proofing guest (sees only what is shared with it)


# Roles a paired device's token may carry (an operator is never a device).
DEVICE_ROLES: Final = frozenset({Role.APPROVER, Role.CLIENT})
DEFAULT_DEVICE_ROLE: Final = Role.APPROVER

# Shorthands for declarations.
OPERATOR_ONLY: Final = frozenset({Role.OPERATOR})
STAFF: Final = frozenset({Role.OPERATOR, Role.APPROVER})
