"""The CLI's social commands.

The weekly social posts: plan, check, approve, publish.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from ostogether.cli.base import (
    FORMATS,
    State,
    cli,
    line,
    out,
    pass_state,
    print_json,
    styled,
)
from ostogether.core.states import NETWORKS
from ostogether.edges.audit import CLI
from ostogether.social import posts, publish, versions, wording
from ostogether.social.media import appearance
from ostogether.social.text import as_sent

# ------------------------------------------------------------------------- social

NETWORK = click.Choice(NETWORKS)


@cli.group("social")
def social_group() -> None:
    """Weekly social posts: plan, review, publish."""


def _post_dict(post: Any, zone: Any) -> dict[str, Any]:
    return {"id": post.id, "network": post.network, "status": post.status,
            "slot": post.slot_at.astimezone(zone).isoformat(timespec="minutes"),
            "kind": post.kind, "title": post.title, "text": post.text, "link": post.link,
            "item_id": post.item_id, "evergreen": post.evergreen_key or None,
            "remote_url": post.remote_url or None, "error": post.error or None,
            "hint": post.hint or None, "image_url": post.image_url or None,
            "image_alt": post.image_alt or None, "media": post.media_name or None,
            "card": post.card}


@social_group.command("plan")
@click.option("--week", default=None, help="ISO week like 2026-W48 (default: next week).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_plan(state: State, week: str | None, fmt: str) -> None:
    """Fill the week's slots: approved items first, then the evergreen library."""
    report = posts.plan_week(state.rt, CLI, week)
    zone = state.rt.community.schedule().zone
    if fmt == "json":
        print_json({"week": report.week, "kept": report.kept, "approved": report.approved,
                     "placed": [{"slot": at.astimezone(zone).isoformat(timespec="minutes"),
                                 "title": title, "networks": list(nets)}
                                for at, title, nets in report.placed],
                     "unfilled": [{"slot": at.astimezone(zone).isoformat(timespec="minutes"),
                                   "why": why} for at, why in report.unfilled]})
        return
    for at, title, nets in report.placed:
        out.print(f"{at.astimezone(zone):%a %d %b %H:%M}  {title[:60]}  ({', '.join(nets)})")
    for at, why in report.unfilled:
        out.print(f"{at.astimezone(zone):%a %d %b %H:%M}  empty: {why}")
    state_word = "approved" if report.approved else "planned, waiting for review"
    out.print(f"Week {report.week}: {len(report.placed)} slot(s) filled ({state_word}), "
              f"{len(report.unfilled)} empty, {report.kept} post(s) were there already.")


@social_group.command("week")
@click.option("--week", default=None, help="ISO week like 2026-W48 (default: this week).")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_week(state: State, week: str | None, fmt: str) -> None:
    """The week's calendar: every slot and its posts."""
    view = posts.week_view(state.rt, week)
    zone = state.rt.community.schedule().zone
    if fmt == "json":
        print_json({"week": view.label, "posts": [
            _post_dict(p, zone) for _, slots in view.days for slot in slots
            for entry in slot.entries for p in entry.posts]})
        return
    for day, slots in view.days:
        for slot in slots:
            if not slot.entries:
                out.print(f"{day:%a %d %b} {slot.at:%H:%M}  (empty)")
            for entry in slot.entries:
                states = ", ".join(f"{p.network} #{p.id} {p.status}" for p in entry.posts)
                out.print(f"{day:%a %d %b} {slot.at:%H:%M}  {entry.title[:50]}  [{states}]")
    out.print(f"Week {view.label}: " + (", ".join(f"{n} {k}" for k, n in view.counts.items())
                                        or "no posts") + ".")


@social_group.command("length")
@click.option("--network", type=NETWORK, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.argument("text")
@pass_state
def social_length(state: State, network: str, fmt: str, text: str) -> None:
    """Count TEXT the way NETWORK does ('-' reads it from stdin). Exit 1 if it does not
    fit."""
    if text == "-":
        text = sys.stdin.read().rstrip("\n")
    m = wording.measure(state.settings, text, network)
    if fmt == "json":
        print_json(m.as_dict())
    else:
        out.print(f"{m.length} of {m.limit} {m.unit}: "
                  + ("fits." if m.fits else "does not fit."))
    sys.exit(0 if m.fits else 1)


@social_group.command("preview")
@click.argument("post_id", type=int)
@pass_state
def social_preview(state: State, post_id: int) -> None:
    """Each network's text of a post's content, with its counted length."""
    post, _, _ = posts.preview(state.rt, post_id)
    zone = state.rt.community.schedule().zone
    out.print(f"{post.title} — {post.slot_at.astimezone(zone):%a %d %b %Y %H:%M}")
    for one in sorted([post, *posts.siblings(state.rt, post)], key=lambda p: p.id):
        m, extra = wording.measure(state.settings, one.text, one.network), as_sent(
            one.text, one.network)
        out.print(line("\n", styled(f"#{one.id} {one.network}", "bold"),
                       f" ({one.status}): {m.length} of {m.limit} {m.unit}"
                       + ("" if m.fits else " — too long")))
        out.print(one.text)
        if "commentary" in extra:
            out.print(f"  sent to LinkedIn as: {extra['commentary']}")
        shows = appearance(one)
        if shows.kind == "picture":
            out.print(f"  picture: {shows.picture or 'kept when approved'} — "
                      f"“{shows.alt}”")
        elif shows.kind == "card" and shows.card is not None:
            out.print(f"  card: {shows.card['title']} ({shows.card['host']}); "
                      + (f"picture {shows.picture}" if shows.picture else
                         "read when approved" if shows.pending else "no picture"))
            if shows.warning:
                out.print(f"  warning: {shows.warning}")


@social_group.command("approve")
@click.argument("post_ids", type=int, nargs=-1)
@click.option("--week", default=None, help="Approve every planned post of this ISO week.")
@pass_state
def social_approve(state: State, post_ids: tuple[int, ...], week: str | None) -> None:
    """Approve posts (by id, or a whole --week), so they go out at their time."""
    if bool(post_ids) == bool(week):
        raise click.UsageError("Give post ids, or --week, but not both.")
    n = (posts.approve_week(state.rt, CLI, week) if week
         else posts.approve(state.rt, CLI, post_ids))
    out.print(f"{n} post(s) approved.")


@social_group.command("skip")
@click.argument("post_id", type=int)
@pass_state
def social_skip(state: State, post_id: int) -> None:
    """Do not publish this post."""
    posts.skip(state.rt, CLI, post_id)
    out.print(f"Post {post_id} skipped.")


@social_group.command("edit")
@click.argument("post_id", type=int)
@click.option("--text", required=True, help="The new text; '-' reads it from stdin.")
@pass_state
def social_edit(state: State, post_id: int, text: str) -> None:
    """Replace a post's text; it must fit its network."""
    if text == "-":
        text = sys.stdin.read()
    post = posts.edit(state.rt, CLI, post_id, text=text)
    m = wording.measure(state.settings, post.text, post.network)
    out.print(f"Post {post_id} changed: {m.length} of {m.limit} {m.unit}.")


@social_group.command("move")
@click.argument("post_id", type=int)
@click.option("--to", "when", required=True, help="Local time like '2026-11-25 10:00'.")
@pass_state
def social_move(state: State, post_id: int, when: str) -> None:
    """Move a post to another time (local, in the timetable's zone)."""
    zone = state.rt.community.schedule().zone
    to = posts.parse_local(zone, when)  # refuses an hour the clocks skip, as the page does
    posts.move(state.rt, CLI, post_id, to)
    local = to.astimezone(zone)
    out.print(f"Post {post_id} moved to {local:%a %d %b %Y %H:%M} ({local.tzname()}).")


@social_group.command("resolve")
@click.argument("post_id", type=int)
@click.option("--posted/--not-posted", required=True,
              help="What you found on the network's account.")
@click.option("--url", default="", help="The post's address, when it was posted.")
@pass_state
def social_resolve(state: State, post_id: int, posted: bool, url: str) -> None:
    """Record what became of a post whose outcome was unknown."""
    posts.resolve(state.rt, CLI, post_id, posted=posted, url=url)
    out.print(f"Post {post_id} marked {'published' if posted else 'failed (not posted)'}.")


@social_group.command("publish")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_publish(state: State, fmt: str) -> None:
    """Publish every approved post whose time has come."""
    report = publish.publish_due(state.rt)
    if fmt == "json":
        print_json({"outcomes": dict(report.outcomes), "lines": report.lines})
        return
    for entry in report.lines:
        out.print(entry)
    out.print(f"{report.total} post(s) handled: " + (", ".join(
        f"{n} {k}" for k, n in sorted(report.outcomes.items())) or "nothing was due") + ".")


@social_group.command("status")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_state
def social_status(state: State, fmt: str) -> None:
    """Posts per state and network, each network's connection, and warnings."""
    counts = posts.status_counts(state.rt)
    connections = versions.connections(state.settings, state.rt.today())
    if fmt == "json":
        print_json({"counts": counts, "networks": connections})
        return
    networks = [c["network"] for c in connections]
    table = Table("state", *networks, box=None)
    for status in sorted(counts):
        table.add_row(status, *(str(counts[status].get(n, 0)) for n in networks))
    out.print(table)
    for c in connections:
        out.print(f"{c['name']}: {'live' if c['live'] else 'dry run (var/outbox/social/)'}"
                  + (f" — {c['warning']}" if c["warning"] else ""))


