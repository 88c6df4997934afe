"""Readers: subscribers with their double opt-in, consent log, preferences and suppression
list (``subscribers``), readers moved in from Mailchimp or a CSV (``readers_import``), and
bounce reports that end a reader's address (``bounces``).

May import: core, edges, mail.
"""
