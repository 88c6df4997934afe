"""Reach in figures: the editors' dashboard and each project's visibility report
(``reports``), and the evidence pack a coordinator pastes into a periodic report
(``evidence``). The counting itself happens where the reach is made: clicks and archive
views in ``newsletter.clicks``, engagement in ``social.metrics``.

May import: every domain (it reads what the others did).
"""
