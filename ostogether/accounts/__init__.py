"""Accounts: editors' and members' logins, invitations, passwords and sessions (``users``),
and the projects' API tokens (``tokens``).

May import: core, edges, mail, readers, newsletter, news (a token submits news for its
project).
"""
