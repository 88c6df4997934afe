"""News from every door: the items from the form, the API and the feeds (``items``), the
feed poller (``feeds``), and the editors' review (``review``).

May import: core, edges, mail, readers, newsletter (an item edited or rejected sends the
issue that carries it back to review).
"""
