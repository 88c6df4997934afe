"""The results library: what the member projects made (toolkits, lesson plans, guides,
videos, platforms, maps...), kept findable after their grants end.

``content`` reads the vocabularies (content/library.toml) and the community's own list of
outputs (content/library/*.toml); ``outputs`` is every door in (the members' form, the
API, the seeds of ``init``), the review and withdrawal, search with facets; ``oai`` is the
OAI-PMH 2.0 endpoint that lets repositories harvest the approved outputs; ``lrmi`` gives
each output's schema.org LearningResource and Atom entry.

May import: core, edges, mail, readers, newsletter, news, accounts and registry (an output
belongs to member projects). The social and reach domains come after it, so that they may
later draw on the library.
"""
