"""Readers: subscribers with their double opt-in, consent log, preferences and suppression
list (``subscribers``), what readers choose to receive (``preferences``), readers moved in
from Mailchimp or a CSV (``readers_import``, one line at a time in ``import_rows``),
bounce reports that end a reader's address (``bounces``), and the readers a segment of an
announcement reaches (``segments``).

May import: core, edges, mail.
"""
