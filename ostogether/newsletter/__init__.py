"""The newsletter: an issue composed from approved items (the pure rules are
``core.compose``), edited, rendered, checked before it goes (``preflight``), approved with
its snapshot (``issues``), test-sent (``test_sends``), dated (``send_dates``), delivered
through the ledger (``delivery``), its links and archive views counted (``clicks``), and
the public archive with the past issues moved in (``archive``, ``archive_import``), and
one-off announcements to a segment of the readers (``announcements``).

May import: core, edges, mail, readers.
"""
