"""The edges every domain uses: the database (``db``; the tables are in
``ostogether.models``, the migrations in ``ostogether.migrations``), one process's
``runtime``, the community's folders (``site``, ``tomlcheck``, ``timetable``), the one
outbound guard (``fetch``), kept pictures (``media``), the audit log and every state move
(``audit``), rate limits (``ratelimit``), and the community's templates rendered to mails
and to the newsletter's MJML (``render``).

May import: core, and ``ostogether.models``.
"""
