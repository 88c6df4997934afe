"""Is the sending domain ready for bulk mail? Its SPF, DKIM and DMARC records, read from DNS
with dnspython (``ostogether mail check-domain``; the pre-flight shows the last result).

- **SPF** (RFC 7208) is evaluated for the envelope sender's domain (the bounce address,
  which is what receivers check) against each address of the SMTP relay: ``ip4``, ``ip6``,
  ``a``, ``mx``, ``include``, ``exists``, ``redirect`` and ``all``, within the limit of 10
  DNS lookups. ``ptr`` (deprecated by the RFC) is not followed.
- **DKIM** (RFC 6376): the selector's record must exist and carry the public half of the
  configured private key.
- **DMARC** (RFC 7489): a policy must exist for the From domain (or its organisational
  domain), and SPF or DKIM must align with the From domain, relaxed or strict as the
  policy says.

The organisational domain is taken as the last two labels, or three under a two-letter
country code's second level (``co.uk``); without the Public Suffix List, a rare suffix may
be misjudged, and the report says which domain it read.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import dkim.crypto
import dns.exception
import dns.resolver
from sqlalchemy import select

from ostogether.core import clock
from ostogether.core.errors import ConfigError
from ostogether.core.settings import Settings
from ostogether.core.words import _l, keep, shown
from ostogether.edges.runtime import Runtime
from ostogether.mail.message import DkimKey
from ostogether.models import DomainCheck

PASS, WARN, FAIL = "pass", "warn", "fail"
SPF_MAX_LOOKUPS = 10
RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1, rsaEncryption
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


class DnsUnreachable(Exception):
    """No answer at all from the name servers: nothing can be said about the records."""


@dataclass(frozen=True)
class Finding:
    key: str  # spf, dkim, dmarc, dns
    status: str
    message: str


@dataclass(frozen=True)
class DomainReport:
    domain: str
    checked_at: dt.datetime
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        states = {f.status for f in self.findings}
        return FAIL if FAIL in states else WARN if WARN in states else PASS


def resolver(settings: Settings) -> dns.resolver.Resolver:
    """The system's resolver, or the name server of ``dns_nameserver`` (host or host:port)."""
    if not settings.dns_nameserver:
        res = dns.resolver.Resolver()
    else:
        res = dns.resolver.Resolver(configure=False)
        host, _, port = settings.dns_nameserver.rpartition(":") if (
            settings.dns_nameserver.count(":") == 1) else (settings.dns_nameserver, "", "")
        res.nameservers = [host]
        res.port = int(port) if port else 53
    res.lifetime = settings.dns_timeout
    res.timeout = settings.dns_timeout
    return res


class Lookups:
    """DNS queries, counted for SPF's limit."""

    def __init__(self, res: dns.resolver.Resolver) -> None:
        self.res, self.count = res, 0

    def _query(self, name: str, rdtype: str) -> list[str]:
        try:
            answer = self.res.resolve(name, rdtype, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers,
                dns.resolver.LifetimeTimeout, OSError) as exc:
            raise DnsUnreachable(f"{name} {rdtype}: {exc or type(exc).__name__}") from None
        if answer.rrset is None:
            return []
        if rdtype == "TXT":
            return [b"".join(r.strings).decode("utf-8", "replace") for r in answer.rrset]
        if rdtype == "MX":
            return [r.exchange.to_text().rstrip(".") for r in answer.rrset]
        return [r.to_text() for r in answer.rrset]

    def txt(self, name: str) -> list[str]:
        return self._query(name, "TXT")

    def addresses(self, name: str) -> list[IP]:
        return [ipaddress.ip_address(a) for t in ("A", "AAAA") for a in self._query(name, t)]

    def mx(self, name: str) -> list[str]:
        return self._query(name, "MX")


def org_domain(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in (
            "co", "com", "ac", "org", "net", "gov", "edu"):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _aligned(a: str, b: str, strict: bool) -> bool:
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    return a == b if strict else org_domain(a) == org_domain(b)


# ------------------------------------------------------------------------- SPF

def _spf_record(dns_: Lookups, domain: str) -> str | None:
    records = [t for t in dns_.txt(domain) if t.lower().startswith("v=spf1")
               and (len(t) == 6 or t[6] == " ")]
    if len(records) > 1:
        raise ValueError(f"{domain} has {len(records)} SPF records; there must be one")
    return records[0] if records else None


def _in(ip: IP, addresses: Iterable[IP], cidr4: int = 32, cidr6: int = 128) -> bool:
    for a in addresses:
        if a.version != ip.version:
            continue
        net = ipaddress.ip_network(f"{a}/{cidr4 if a.version == 4 else cidr6}", strict=False)
        if ip in net:
            return True
    return False


def _target(arg: str, domain: str) -> tuple[str, int, int]:
    """``a:host/24//64`` → (host, 24, 64)."""
    name, _, cidrs = arg.partition("/")
    c4, _, c6 = cidrs.partition("//") if cidrs else ("", "", "")
    if cidrs.startswith("/"):
        c4, c6 = "", cidrs[1:]
    return name or domain, int(c4 or 32), int(c6 or 128)


def spf_result(dns_: Lookups, domain: str, ip: IP, depth: int = 0) -> str:
    """pass, fail, softfail, neutral, none or permerror, as RFC 7208 §4 would say."""
    if depth > SPF_MAX_LOOKUPS:
        return "permerror"
    try:
        record = _spf_record(dns_, domain)
    except ValueError:
        return "permerror"
    if record is None:
        return "none"
    redirect = ""
    results = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
    for term in record.split()[1:]:
        qualifier = term[0] if term[0] in results else "+"
        mech = term[1:] if term[0] in results else term
        name, sep, arg = mech.partition(":")
        if "=" in mech and not sep:
            key, _, value = mech.partition("=")
            if key.lower() == "redirect":
                redirect = value
            continue
        name = name.lower()
        if "/" in name:  # a/24 or mx/24 without a domain
            name, _, cidr = name.partition("/")
            arg = "/" + cidr
        if name in ("a", "mx", "include", "exists"):
            dns_.count += 1
            if dns_.count > SPF_MAX_LOOKUPS:
                return "permerror"
        matched = False
        if name == "all":
            matched = True
        elif name == "ip4" or name == "ip6":
            try:
                matched = ip in ipaddress.ip_network(arg, strict=False)
            except ValueError:
                return "permerror"
        elif name == "a":
            host, c4, c6 = _target(arg, domain)
            matched = _in(ip, dns_.addresses(host), c4, c6)
        elif name == "mx":
            host, c4, c6 = _target(arg, domain)
            matched = any(_in(ip, dns_.addresses(mx), c4, c6) for mx in dns_.mx(host))
        elif name == "include":
            inner = spf_result(dns_, arg, ip, depth + 1)
            if inner in ("permerror", "none"):
                return "permerror"
            matched = inner == "pass"
        elif name == "exists":
            matched = bool(dns_.addresses(arg))
        if matched:
            return results[qualifier]
    if redirect:
        dns_.count += 1
        inner = spf_result(dns_, redirect, ip, depth + 1)
        return "permerror" if inner == "none" else inner
    return "neutral"


# ------------------------------------------------------------------------- the checks

def _relay_ips(dns_: Lookups, host: str) -> list[IP]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return dns_.addresses(host)


def check_spf(dns_: Lookups, envelope_domain: str, relay: str) -> Finding:
    ips = _relay_ips(dns_, relay)
    if not ips:
        return Finding("spf", WARN, _l("The SMTP relay %(relay)s has no address in DNS, so "
                                       "SPF cannot be checked for it.", relay=relay))
    public = [ip for ip in ips if ip.is_global]
    if not public:
        return Finding("spf", WARN, _l("The SMTP relay %(relay)s is on a private address "
                                       "(%(addresses)s): receivers see the relay's public "
                                       "address; set smtp_host to the relay's public name "
                                       "to check SPF.", relay=relay,
                                       addresses=", ".join(map(str, ips))))
    outcomes = {str(ip): spf_result(Lookups(dns_.res), envelope_domain, ip) for ip in public}
    bad = {ip: r for ip, r in outcomes.items() if r != "pass"}
    if not bad:
        return Finding("spf", PASS, _l("SPF of %(domain)s allows the relay %(relay)s "
                                       "(%(addresses)s).", domain=envelope_domain,
                                       relay=relay, addresses=", ".join(outcomes)))
    if all(r == "none" for r in bad.values()):
        return Finding("spf", FAIL, _l('%(domain)s has no SPF record. Publish one that '
                                       'covers the relay, e.g. "v=spf1 ip4:%(address)s -all" '
                                       "(or your provider's include:).",
                                       domain=envelope_domain, address=str(public[0])))
    listed = ", ".join(f"{ip}: {r}" for ip, r in bad.items())
    return Finding("spf", FAIL, _l("SPF of %(domain)s does not allow the relay %(relay)s "
                                   "(%(results)s). Add the relay to the record.",
                                   domain=envelope_domain, relay=relay, results=listed))


def _tags(record: str) -> dict[str, str]:
    out = {}
    for part in record.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            out[key.strip().lower()] = "".join(value.split())
    return out


def check_dkim(dns_: Lookups, key: DkimKey | None) -> Finding:
    if key is None:
        return Finding("dkim", WARN, _l("The service's mail is not signed: set "
                                        "dkim_selector, dkim_domain and a key. Without DKIM, "
                                        "DMARC rests on SPF alone, which forwarding breaks."))
    name = f"{key.selector}._domainkey.{key.domain}"
    records = [t for t in dns_.txt(name) if "p=" in t]
    if not records:
        return Finding("dkim", FAIL, _l('No DKIM record at %(name)s. Publish the public key '
                                        'there (a TXT record "v=DKIM1; k=rsa; p=…").',
                                        name=name))
    tags = _tags(records[0])
    if not tags.get("p"):
        return Finding("dkim", FAIL, _l("The DKIM record at %(name)s is revoked (empty p=).",
                                        name=name))
    try:
        private = dkim.crypto.parse_pem_private_key(key.private_key)
        public = dkim.crypto.parse_public_key(base64.b64decode(tags["p"]))
    except (dkim.crypto.UnparsableKeyError, ValueError, TypeError) as exc:
        return Finding("dkim", WARN, _l("The DKIM record at %(name)s or the key could not "
                                        "be read (%(error)s); compare them by hand.",
                                        name=name, error=str(exc)))
    if (private["modulus"], private["publicExponent"]) != (public["modulus"],
                                                            public["publicExponent"]):
        return Finding("dkim", FAIL, _l("The DKIM record at %(name)s holds another key than "
                                        "the one the service signs with. Publish the public "
                                        "half of the configured key.", name=name))
    return Finding("dkim", PASS, _l("The DKIM record at %(name)s matches the signing key.",
                                    name=name))


def check_dmarc(dns_: Lookups, from_domain: str, envelope_domain: str,
                dkim_domain: str, spf_ok: bool, dkim_ok: bool) -> Finding:
    where = f"_dmarc.{from_domain}"
    records = [t for t in dns_.txt(where) if t.lower().startswith("v=dmarc1")]
    org = org_domain(from_domain)
    if not records and org != from_domain:
        where = f"_dmarc.{org}"
        records = [t for t in dns_.txt(where) if t.lower().startswith("v=dmarc1")]
    if not records:
        return Finding("dmarc", FAIL, _l('No DMARC policy for %(domain)s. Publish one at '
                                         '_dmarc.%(domain)s, e.g. "v=DMARC1; p=none; '
                                         'rua=mailto:dmarc@%(domain)s"; Gmail and Yahoo '
                                         "require it of bulk senders.", domain=from_domain))
    tags = _tags(records[0])
    policy = tags.get("p", "").lower()
    if policy not in ("none", "quarantine", "reject"):
        return Finding("dmarc", FAIL, _l("The DMARC record at %(where)s has no valid p= tag.",
                                         where=where))
    spf_aligned = spf_ok and _aligned(envelope_domain, from_domain,
                                      tags.get("aspf", "r").lower() == "s")
    dkim_aligned = dkim_ok and bool(dkim_domain) and _aligned(
        dkim_domain, from_domain, tags.get("adkim", "r").lower() == "s")
    if not (spf_aligned or dkim_aligned):
        said = {"policy": policy, "where": where, "envelope": envelope_domain,
                "dkim": dkim_domain, "domain": from_domain}
        return Finding("dmarc", FAIL, (
            _l("DMARC policy p=%(policy)s at %(where)s, but neither SPF (%(envelope)s) nor "
               "DKIM (%(dkim)s) passes aligned with the From domain %(domain)s: receivers "
               "will reject the newsletter.", **said) if policy == "reject" and dkim_domain
            else _l("DMARC policy p=%(policy)s at %(where)s, but neither SPF (%(envelope)s) "
                    "nor DKIM (not signed) passes aligned with the From domain %(domain)s: "
                    "receivers will reject the newsletter.", **said) if policy == "reject"
            else _l("DMARC policy p=%(policy)s at %(where)s, but neither SPF (%(envelope)s) "
                    "nor DKIM (%(dkim)s) passes aligned with the From domain %(domain)s: "
                    "receivers will doubt the newsletter.", **said) if dkim_domain
            else _l("DMARC policy p=%(policy)s at %(where)s, but neither SPF (%(envelope)s) "
                    "nor DKIM (not signed) passes aligned with the From domain %(domain)s: "
                    "receivers will doubt the newsletter.", **said)))
    how = (_l("SPF and DKIM") if spf_aligned and dkim_aligned
           else "SPF" if spf_aligned else "DKIM")
    if policy == "none":
        return Finding("dmarc", WARN, _l("DMARC at %(where)s aligns (%(how)s) but its policy "
                                         "is p=none: monitoring only. Move to quarantine "
                                         "once the reports are clean.", where=where, how=how))
    return Finding("dmarc", PASS, _l("DMARC p=%(policy)s at %(where)s; %(how)s aligned with "
                                     "%(domain)s.", policy=policy, where=where, how=how,
                                     domain=from_domain))


def domains(rt: Runtime) -> tuple[str, str]:
    """The From domain and the envelope sender's domain of newsletter mail."""
    site, st = rt.community.site(), rt.settings
    sender = parseaddr(st.mail_from)[1] if st.mail_from else site.sender_email
    from_domain = sender.rpartition("@")[2].lower()
    envelope = (st.bounce_address or f"bounces@{from_domain}").rpartition("@")[2].lower()
    return from_domain, envelope


def configured_key(st: Settings) -> tuple[DkimKey | None, str]:
    """The DKIM key the settings name (None when DKIM is not set up), and why it cannot be
    used when it is set up wrongly."""
    try:
        return DkimKey.load(st.dkim_selector, st.dkim_domain, st.dkim_key_file,
                            st.dkim_private_key), ""
    except ConfigError as exc:
        return None, str(exc)


def check(rt: Runtime) -> DomainReport:
    """Read the records and store the findings (the pre-flight shows the last ones)."""
    st = rt.settings
    from_domain, envelope = domains(rt)
    key, key_problem = configured_key(st)
    dns_ = Lookups(resolver(st))
    try:
        spf = check_spf(dns_, envelope, st.smtp_host)
        dkim_finding = check_dkim(dns_, key) if not key_problem else Finding(
            "dkim", FAIL, key_problem)
        dmarc = check_dmarc(dns_, from_domain, envelope, key.domain if key else "",
                            spf.status == PASS, dkim_finding.status == PASS)
        findings: tuple[Finding, ...] = (spf, dkim_finding, dmarc)
    except DnsUnreachable as exc:
        findings = (Finding("dns", WARN, _l("The name servers did not answer (%(error)s); "
                                            "nothing was checked. Is dns_nameserver right?",
                                            error=str(exc))),)
    # Kept as msgids and parameters; returned as text in the caller's language (the
    # page's, or English for the CLI).
    kept = [[f.key, f.status, keep(f.message)] for f in findings]
    findings = tuple(Finding(f.key, f.status, str(f.message)) for f in findings)
    report = DomainReport(from_domain, clock.now(), findings)
    with rt.db.session() as s:
        row = s.scalar(select(DomainCheck).where(DomainCheck.domain == from_domain))
        if row is None:
            row = DomainCheck(domain=from_domain)
            s.add(row)
        row.checked_at, row.status = report.checked_at, report.status
        row.findings = kept
    return report


def last(rt: Runtime) -> DomainReport | None:
    """The last stored check of the From domain, if any."""
    from_domain, _ = domains(rt)
    with rt.db.session() as s:
        row = s.scalar(select(DomainCheck).where(DomainCheck.domain == from_domain))
        if row is None:
            return None
        return DomainReport(row.domain, row.checked_at,
                            tuple(Finding(key, status, str(shown(message)))
                                  for key, status, message in row.findings))


# ------------------------------------------------------------- what to publish where

@dataclass(frozen=True)
class Record:
    """A DNS record the sending domain needs, as an editor hands it to whoever keeps the
    domain's DNS: its purpose, name, type and value (empty when the value depends on a
    choice only the operator can make, which ``note`` then explains)."""

    key: str  # spf, dkim, dmarc
    name: str
    type: str
    value: str
    note: Any  # a lazy sentence, in the page's language when shown


def _der(tag: int, body: bytes) -> bytes:
    """One DER element: the tag, the length (short or long form) and the body."""
    n = len(body)
    length = bytes([n]) if n < 0x80 else (
        bytes([0x80 | (n.bit_length() + 7) // 8]) + n.to_bytes((n.bit_length() + 7) // 8,
                                                              "big"))
    return bytes([tag]) + length + body


def public_key_txt(private_pem: bytes) -> str:
    """The ``p=`` value of a DKIM record for ``private_pem``: the public half as a
    SubjectPublicKeyInfo in DER, base64. Encoded here in a few lines (dkimpy's own
    encoder breaks on long elements), so that publishing DKIM needs no extra library."""
    key = dkim.crypto.parse_pem_private_key(private_pem)

    def integer(n: int) -> bytes:  # a leading 0 byte keeps it positive
        return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))

    rsa = _der(0x30, integer(key["modulus"]) + integer(key["publicExponent"]))
    algorithm = _der(0x30, _der(0x06, RSA_OID) + _der(0x05, b""))
    info = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa))
    return base64.b64encode(info).decode()


def to_publish(rt: Runtime) -> list[Record]:
    """The SPF, DKIM and DMARC records that make the newsletter's mail trusted, for the
    domains the service sends from (``domains``) and its configured relay and key."""
    st = rt.settings
    from_domain, envelope = domains(rt)
    relay = st.smtp_host if st.mail_transport == "smtp" else ""
    spf = (Record("spf", envelope, "TXT", f"v=spf1 a:{relay} ~all",
                  _l("Lets the relay %(relay)s send for %(domain)s. If %(domain)s already has "
                     "an SPF record, add a:%(relay)s to it instead: a domain may have only "
                     "one.", relay=relay, domain=envelope))
           if relay else
           Record("spf", envelope, "TXT", "", _l(
               "Mail is not sent over SMTP yet (mail_transport is outbox): once a relay is "
               "set, its name goes here as a:<relay>, or your mail provider's include:.")))
    key, problem = configured_key(st)
    if key is not None:
        try:
            value = f"v=DKIM1; k=rsa; p={public_key_txt(key.private_key)}"
            note = _l("The public half of the key the service signs with.")
        except (dkim.crypto.UnparsableKeyError, ValueError) as exc:
            value, note = "", _l("The signing key cannot be read (%(error)s).", error=str(exc))
        dkim_record = Record("dkim", f"{key.selector}._domainkey.{key.domain}", "TXT",
                             value, note)
    else:
        dkim_record = Record("dkim", f"<selector>._domainkey.{from_domain}", "TXT", "",
                             problem or _l(
                                 "Mail is not signed yet. The operator makes a key (openssl "
                                 "genrsa -out dkim.pem 2048) and sets dkim_selector, "
                                 "dkim_domain and dkim_key_file; this page then shows the "
                                 "record."))
    contact = rt.community.site().contact_email or f"dmarc@{from_domain}"
    dmarc = Record("dmarc", f"_dmarc.{from_domain}", "TXT",
                   f"v=DMARC1; p=none; rua=mailto:{contact}",
                   _l("Start with p=none, which only asks receivers for reports; move to "
                      "p=quarantine once the reports show every mail passing. Gmail and Yahoo "
                      "require a DMARC record of bulk senders."))
    return [spf, dkim_record, dmarc]
