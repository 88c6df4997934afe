"""The newsletter: an issue composed from approved items (the pure rules are
``core.compose``), edited, rendered, checked before it goes (``preflight``), approved with
its snapshot (``issues``), test-sent (``test_sends``), dated (``send_dates``), delivered
through the ledger (``delivery``), its links and archive views counted (``clicks``), and
the public archive with the past issues moved in (``archive``, ``archive_import``).

May import: core, edges, mail, readers.
"""
