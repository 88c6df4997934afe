"""Legacy: the weekly link check of every public output through the outbound guard, the
archived copy a member or an editor records, and a dead link never served without a word."""

from __future__ import annotations

from typing import Any

from ostogether import jobs
from ostogether.edges.runtime import Runtime
from ostogether.edges.timetable import JOBS
from ostogether.library import outputs
from tests.conftest import csrf_from, login, new_client
from tests.factories import add_output, make_user
from tests.feedserver import Route


def test_the_weekly_check_flags_dead_links_and_revives_them(rt: Runtime, web: Any,
                                                            test_clock: Any) -> None:
    assert "check_library" in JOBS
    assert "check_library" in {j.name for j in rt.community.schedule().jobs}
    alive = add_output(rt, "otter", title="Alive", url=web.url("/page/1"))
    gone = add_output(rt, "otter", title="Gone", url=web.url("/gone"))
    waiting = add_output(rt, "otter", title="Waiting", url=web.url("/waiting"),
                         approve=False)
    with rt.db.session() as s:
        stamp = outputs.get(s, gone).updated_at
    test_clock.advance(hours=1)
    run = jobs.run(rt, "check_library")
    assert run.outcome == "failed" and "2 output(s) checked, 1 dead" in run.summary
    assert "Gone" in run.summary and "HTTP 404" in run.summary
    with rt.db.session() as s:
        dead = outputs.get(s, gone)
        assert (dead.link_status, dead.link_error) == ("dead", "HTTP 404")
        assert dead.updated_at == stamp  # harvesters do not fetch it again for a check
        assert outputs.get(s, alive).link_status == "ok"
        assert outputs.get(s, waiting).link_status == ""  # not public: not checked
    assert web.hits("/waiting") == []
    web.routes["/gone"] = Route(body=b"back", content_type="text/html")
    again = jobs.run(rt, "check_library")
    assert again.outcome == "ok" and "1 answering again" in again.summary
    with rt.db.session() as s:
        back = outputs.get(s, gone)
        assert back.link_status == "ok" and back.link_dead_since is None


def test_a_dead_outputs_page_points_to_its_archived_copy(app: Any, client: Any, rt: Runtime,
                                                         web: Any, editor: Any) -> None:
    oid = add_output(rt, "otter", title="Outdoor map", url=web.url("/gone"))
    page = client.get("/library/outdoor-map").get_data(as_text=True)
    assert "site is gone" not in page
    jobs.run(rt, "check_library")
    page = client.get("/library/outdoor-map").get_data(as_text=True)
    assert "site is gone" in page and "No archived copy is recorded yet" in page
    dashboard = editor.get("/editors/").get_data(as_text=True)
    assert "Library: sites gone" in dashboard and "Outdoor map" in dashboard
    assert "Outdoor map" in editor.get("/editors/library").get_data(as_text=True).split(
        'id="dead"')[1]
    make_user(rt, "otter@example.org", role="member", project="otter")
    member = new_client(app)
    login(member, "otter@example.org")
    token = csrf_from(member.get("/members/library").get_data(as_text=True))
    bad = member.post(f"/members/library/{oid}/archive",
                      data={"csrf_token": token, "archived_url": "javascript:x"})
    assert bad.status_code == 302
    member.post(f"/members/library/{oid}/archive",
                data={"csrf_token": token,
                      "archived_url": "https://zenodo.org/records/1234567"})
    page = client.get("/library/outdoor-map").get_data(as_text=True)
    assert "site is gone" in page and 'href="https://zenodo.org/records/1234567"' in page
    assert "Open the archived copy" in page
    # An editor records one for any output; another project's member cannot.
    make_user(rt, "connect@example.org", role="member", project="connect")
    other = new_client(app)
    login(other, "connect@example.org")
    token = csrf_from(other.get("/members/library").get_data(as_text=True))
    assert other.post(f"/members/library/{oid}/archive", data={
        "csrf_token": token, "archived_url": "https://example.org/x"}).status_code == 404
    token = csrf_from(editor.get("/editors/library").get_data(as_text=True))
    editor.post(f"/editors/library/{oid}/archive",
                data={"csrf_token": token, "archived_url": "https://web.archive.org/x"})
    with rt.db.session() as s:
        assert outputs.get(s, oid).archived_url == "https://web.archive.org/x"
