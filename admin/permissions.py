"""What each role may do. Pages and actions ask for a permission, never for a role."""

from __future__ import annotations

from enum import StrEnum

from admin.models import Role


class Permission(StrEnum):
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_TICKETS = "view_tickets"
    VIEW_ARTICLES = "view_articles"
    EDIT_ARTICLES = "edit_articles"
    PUBLISH = "publish"
    REVIEW = "review"
    VIEW_INBOX = "view_inbox"
    RESOLVE_INBOX = "resolve_inbox"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    VIEW_NOTICES = "view_notices"
    COMPOSE_NOTICES = "compose_notices"
    APPROVE_NOTICES = "approve_notices"
    SEND_NOTICES = "send_notices"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.EDITOR: frozenset({Permission.VIEW_DASHBOARD, Permission.VIEW_ARTICLES,
                            Permission.EDIT_ARTICLES, Permission.PUBLISH, Permission.VIEW_INBOX,
                            Permission.RESOLVE_INBOX, Permission.VIEW_NOTICES,
                            Permission.COMPOSE_NOTICES, Permission.APPROVE_NOTICES,
                            Permission.SEND_NOTICES}),
    Role.REVIEWER: frozenset({Permission.VIEW_DASHBOARD, Permission.VIEW_ARTICLES,
                              Permission.REVIEW, Permission.VIEW_INBOX,
                              Permission.VIEW_NOTICES, Permission.APPROVE_NOTICES}),
    # Counselors read tickets and notices (to know what residents were told); they change
    # nothing here (they answer residents in Telegram).
    Role.COUNSELOR: frozenset({Permission.VIEW_DASHBOARD, Permission.VIEW_TICKETS,
                               Permission.VIEW_NOTICES}),
}


def allowed(role: str, permission: Permission) -> bool:
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
