"""The registry of the community: the eligibility rules (``rules``, pure), the projects with
their applications and decisions (``projects``), a project edited in the browser
(``project_edit``), social handles (``handles``), members moved in from Wild Apricot
(``members_import``), and ``content/projects/`` written back as files (``files``).

May import: core, edges, mail, readers, newsletter, news (an application's feed is
checked), accounts (an accepted project's contact is invited).
"""
