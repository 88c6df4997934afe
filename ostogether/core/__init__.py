"""The pure core: the one clock, the error tree, the input rules, the states and
vocabularies, the settings table, signatures, CSV in and out, the Markdown sanitiser,
charts, colour contrast, and the newsletter's composition rules (``compose``, pure; the
community loader reads ``newsletter.toml`` into its ``Rules``).

Nothing here touches the database, the network or the web. May import: nothing of ours but
core (and the package's ``__version__``).
"""
