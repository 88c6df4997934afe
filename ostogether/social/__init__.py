"""Weekly social posts: planning, text per network, and once-only publishing.

May import: core, edges, mail, readers, newsletter, news, accounts, registry (today it
needs only core and edges).
"""
