"""What a host should hold against what its probe saw: the drift report of ``status``.

Pure: no host, no pyinfra. Input per host is its settings, the files ``render`` gives it
(with the tenant's canonical key file where PostgREST runs), the tenant's kids and the
probed :class:`~postgrest_stack.probe.HostState`; output is a :class:`HostReport` with
one :class:`Drift` per difference compare.diff finds (the differences a deploy acts
on: plan.py reads the same list), each naming what fixes it. :class:`FleetReport` adds
the verdict line and the exit status (0 all match, 1 drift or not ready, 2 a host
could not be checked).

Nothing here prints a secret: files are compared with :func:`compare.file_is_current`
(secret files by their keyed digest only), and a report names files, modes, owners,
image IDs and kids, never a digest or a file's content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from . import backups, compare, loaded, migrations
from .layout import JWKS_FILE, SQL_DIR, RenderedFile
from .probe import HostState
from .settings import Settings

DEPLOY = "deploy.py"
ROTATE = "rotate_keys.py"
BACKUP = "backup.py"

EXIT_OK, EXIT_DRIFT, EXIT_UNKNOWN = 0, 1, 2
#: Every kind of drift line (docs/operations.md, "Day 2", explains each).
DRIFT_KINDS = ("docker", "directory", "file", "sql", "migrations", "service", "image", "ready", "keys", "loaded",
               "backup")


@dataclass(frozen=True)
class Drift:
    """One difference: ``kind`` (docker, directory, file, sql, migrations, service, image,
    ready, keys, loaded, backup), what it is about, what differs, and the command that fixes it."""

    kind: str
    subject: str
    detail: str
    fix: str

    @property
    def line(self) -> str:
        return f"{self.kind} {self.subject}: {self.detail} (fix: {self.fix})"


@dataclass(frozen=True)
class TenantKeys:
    """The tenant's key set as the controller fetched it, or why it could not."""

    url: str
    kids: tuple[str, ...] = ()
    key_file: bytes | None = None  # the canonical key file a deploy would push
    error: str | None = None


@dataclass
class HostReport:
    name: str
    role: str = ""
    #: Why the host could not be checked (unreachable, no settings, ...); None: checked.
    error: str | None = None
    unreachable: bool = False
    docker: str = ""
    engine_version: str | None = None
    compose_version: str | None = None
    services: dict[str, dict] = field(default_factory=dict)
    #: PostgREST's /ready status code (None: no answer, or no PostgREST on this host).
    ready: int | None = None
    runs_api: bool = False
    #: The kids of the host's key file (None: no key file, or no PostgREST here).
    kids: list[str] | None = None
    tenant: str | None = None
    #: Where the SQL is applied: {"applied": N, "pending": M} against the folder (None:
    #: not known, e.g. no ledger read).
    migrations: dict[str, int] | None = None
    drift: list[Drift] = field(default_factory=list)
    #: ``last run: TIME user@host SCRIPT RESULT`` from the host's audit.log (runs.last_run); None: no run recorded.
    last_run: str | None = None
    #: Checks left out because the controller lacks a secret they need (one line each);
    #: not drift: the verdict and the exit status are those of what was compared.
    skipped: list[str] = field(default_factory=list)
    #: stack_role "backup": the host keeps offsite backups only; nothing of the stack is compared.
    backup_only: bool = False
    #: A db host's newest verified backup: {"name": NAME, "age_hours": H}; None: none, or no database here.
    backup: dict | None = None
    runs_db: bool = False

    @property
    def checked(self) -> bool:
        return self.error is None

    @property
    def not_ready(self) -> bool:
        return any(d.kind == "ready" for d in self.drift)

    @property
    def verdict(self) -> str:
        if self.unreachable:
            return "unreachable"
        if not self.checked:
            return "unknown"
        return "drift" if self.drift else "ok"

    def as_json(self) -> dict:
        return {
            "host": self.name, "role": self.role, "verdict": self.verdict, "error": self.error,
            "docker": self.docker or None, "engine_version": self.engine_version,
            "compose_version": self.compose_version, "services": self.services, "ready": self.ready,
            "kids": self.kids, "tenant": self.tenant, "migrations": self.migrations,
            "last_run": self.last_run, "skipped": self.skipped, "backup": self.backup,
            "drift": [{"kind": d.kind, "subject": d.subject, "detail": d.detail, "fix": d.fix} for d in self.drift],
        }


# --- One host ------------------------------------------------------------------------


def _fix(difference: compare.Difference) -> str:
    """The command that fixes a difference: a key file whose content only differs is the
    rotation's (its mode or owner, a deploy's); a record of the keys, the rotation's."""
    if difference.kind == "file" and difference.subject == JWKS_FILE and difference.code in ("missing", "content"):
        return ROTATE
    if difference.kind == "loaded" and difference.subject == loaded.KEYS:
        return ROTATE
    return DEPLOY


short_id = compare.short_id

def _migrations(report: HostReport, files: dict[str, RenderedFile], state: HostState,
                ledger: list[migrations.Applied] | None) -> None:
    """The ledger against the folder: counts, and a drift line for what is pending and for
    each applied migration edited or removed (the deploy refuses those)."""
    folder = migrations.files_of({name: f.content for name, f in files.items()})
    if state.ledger_digest == migrations.folder_digest(folder):
        report.migrations = {"applied": len(folder), "pending": 0}
        return
    if ledger is None:
        report.drift.append(Drift(
            "migrations", "ledger", "no ledger in the database" if state.ledger_digest is None
            else "the database's ledger differs from the folder (migrations pending, or an applied one "
                 "edited or removed: deploy.py --dry names them)", DEPLOY))
        return
    found = migrations.statuses(folder, ledger)
    pending = [name for name, status in found if status == migrations.PENDING]
    report.migrations = {"applied": sum(status == migrations.APPLIED for _name, status in found),
                         "pending": len(pending)}
    for name, status in found:
        if status not in (migrations.APPLIED, migrations.PENDING):
            report.drift.append(Drift("migrations", name, f"{status}: {migrations.LEGEND[status]}",
                                      "restore the file as it was applied; put changes in a new migration"))
    if pending:
        report.drift.append(Drift("migrations", "pending", f"{len(pending)} not applied yet: {', '.join(pending)}",
                                  DEPLOY))


def _ledger_lines(report: HostReport, settings: Settings, files: dict[str, RenderedFile], state: HostState,
                  ledger: list[migrations.Applied] | None) -> bool:
    """The migrations' counts and lines, where the SQL is applied and the engine answers."""
    if state.docker == "running" and settings.applies_sql:
        _migrations(report, files, state, ledger)
    return True


def host_report(name: str, settings: Settings, files: dict[str, RenderedFile], state: HostState,
                tenant: TenantKeys, ledger: list[migrations.Applied] | None = None,
                unknown: dict[str, str] | None = None, now: datetime | None = None) -> HostReport:
    """Compare one probed host with what ``render`` and the tenant's keys say it should hold.

    ``files`` is render's output, plus the tenant's canonical key file where PostgREST
    runs (plan.with_jwks) when the tenant's key set was read; without it the key file
    and the kids are not compared (``tenant.error`` says why). ``ledger``: the database's
    ledger rows, read when its digest differs from the folder's (None: not read).
    ``unknown``: {rendered file: why its content is not known} (a secret the controller
    lacks: ``files`` then hold a stand-in for it): such a file's content, the SQL digest
    and the load records that include it are not compared, each left out with one line
    in ``skipped``; its presence, mode and owner still are. Where the database runs, its
    newest verified backup older than backup_max_age_hours at ``now`` (default: the
    current time), or none at all, is drift too.
    """
    unknown = unknown or {}
    report = HostReport(name, role=settings.stack_role, docker=state.docker, engine_version=state.engine_version,
                        compose_version=state.compose_version, runs_api=settings.runs_api, tenant=tenant.url,
                        runs_db=settings.runs_db)
    report.services = {service: {"image": s.image, "image_id": s.image_id or None, "status": s.status,
                                 "health": s.health or None}
                       for service, s in sorted(state.services.items())}
    drift = report.drift
    key = compare.digest_key_of(files)
    # Without docker, what the engine would say (services, the database's digests,
    # PostgREST's readiness) is not known: only the engine itself and the files count.
    engine_kinds = ("sql", "migrations", "service", "image", "ready")
    ledger_done = False
    for difference in compare.diff(files, state):
        if state.docker != "running" and difference.kind in engine_kinds:
            continue
        if _depends_on_unknown(difference, files, unknown):
            continue
        if difference.kind == "file" and difference.subject in unknown and difference.code == "content and attributes":
            # Only the mode or owner is known drift: drop the stand-in's "content differs".
            difference = compare.Difference("file", difference.subject, "attributes",
                                            difference.detail.partition("; ")[2])
        if difference.kind in ("service", "image", "ready") and not ledger_done:
            ledger_done = _ledger_lines(report, settings, files, state, ledger)
        if difference.kind == "file" and difference.subject == JWKS_FILE and tenant.error:
            continue  # the tenant's key set was not read: nothing to compare the key file with
        if difference.kind == "loaded":
            # Files in place that the services never loaded (a run that stopped half-way):
            # only where the files themselves are current, else the file lines say it all.
            names = loaded.sources(difference.subject, files)
            if not all(compare.file_is_current(state.paths.get(name), files[name].content, files[name].mode,
                                               files[name].owner_uid, digest_key=key) for name in names):
                continue
        if difference.kind == "migrations":
            continue  # with the ledger's rows when they were read: _ledger_lines
        drift.append(Drift(difference.kind, difference.subject, difference.detail, _fix(difference)))
    if not ledger_done:
        _ledger_lines(report, settings, files, state, ledger)
    if state.docker == "running" and settings.runs_api:
        report.ready = state.ready
    report.skipped = _skipped(files, unknown, state)

    if settings.runs_api and JWKS_FILE in state.paths:
        report.kids = list(state.jwks_kids)  # the probe reads the key file (public keys only)
        if not report.kids:
            drift.append(Drift("keys", JWKS_FILE, "holds no key PostgREST could use", DEPLOY))
        elif not tenant.error:
            missing = [kid for kid in tenant.kids if kid not in report.kids]
            extra = [kid for kid in report.kids if kid not in tenant.kids]
            if missing:
                drift.append(Drift("keys", "missing", f"the tenant publishes {', '.join(missing)}, "
                                                      "the host does not serve it", ROTATE))
            if extra:
                drift.append(Drift("keys", "extra", f"the host serves {', '.join(extra)}, "
                                                    "the tenant no longer publishes it", ROTATE))
    if settings.runs_db:
        _backup(report, settings, state, now or datetime.now(timezone.utc))
    return report


def _backup(report: HostReport, settings: Settings, state: HostState, now: datetime) -> None:
    """The newest verified backup and its age; too old, or none at all, is drift."""
    latest = state.latest_backup
    if latest is not None:
        report.backup = {"name": latest, "age_hours": round(backups.age_hours(latest, now), 2)}
    stale = backups.staleness(latest, settings.backup_max_age_hours, now)
    if stale:
        report.drift.append(Drift("backup", settings.backups_path, stale, BACKUP))


def _depends_on_unknown(difference: compare.Difference, files: dict[str, RenderedFile],
                        unknown: dict[str, str]) -> bool:
    """A difference that only says an unknown file's stand-in differs (a missing file or
    a wrong mode or owner is still known drift)."""
    if not unknown:
        return False
    if difference.kind == "file":
        return difference.subject in unknown and difference.code == "content"
    if difference.kind == "loaded":
        return any(name in unknown for name in loaded.sources(difference.subject, files))
    if difference.kind == "sql":
        return any(name in unknown for name in files if name.startswith(f"{SQL_DIR}/"))
    return False


def _skipped(files: dict[str, RenderedFile], unknown: dict[str, str], state: HostState) -> list[str]:
    """One line per check left out for a lack of secrets."""
    lines = [f"file {name}: not compared: {why}" for name, why in sorted(unknown.items()) if name in files]
    for record in sorted(loaded.RECORDS):
        names = [name for name in loaded.sources(record, files) if name in unknown]
        if names and loaded.sources(record, files):
            lines.append(f"loaded {record}: not compared: it records {', '.join(names)}")
    if state.docker == "running" and any(name in unknown for name in files if name.startswith(f"{SQL_DIR}/")):
        lines.append("sql digest: not compared: the applied SQL includes "
                     + ", ".join(sorted(name for name in unknown if name.startswith(f"{SQL_DIR}/"))))
    return lines


def unreachable(name: str, reason: str, role: str = "") -> HostReport:
    return HostReport(name, role=role, error=reason, unreachable=True)


def backup_host(name: str) -> HostReport:
    """A host of stack_role "backup": named, never probed (no stack runs there)."""
    return HostReport(name, role="backup", backup_only=True)


def unknown(name: str, reason: str, role: str = "") -> HostReport:
    """A host whose expected state could not be computed (settings, secrets)."""
    return HostReport(name, role=role, error=reason)


# --- The fleet -----------------------------------------------------------------------


@dataclass
class FleetReport:
    hosts: list[HostReport]
    tenants: list[TenantKeys] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if any(not h.checked for h in self.hosts) or any(t.error for t in self.tenants) or not self.hosts:
            return EXIT_UNKNOWN
        if any(h.drift for h in self.hosts):
            return EXIT_DRIFT
        return EXIT_OK

    @property
    def verdict(self) -> str:
        """One line: ``ok: ...``, ``drift: ...`` or ``unknown: ...``."""
        if not self.hosts:
            return "unknown: no host selected"
        total = len(self.hosts)
        matching = [h for h in self.hosts if h.verdict == "ok"]
        parts = []
        drifted = [h for h in self.hosts if h.checked and h.drift and not h.not_ready]
        not_ready = [h for h in self.hosts if h.checked and h.not_ready]
        if drifted:
            parts.append(", ".join(f"{h.name} ({_count(h.drift)})" for h in drifted))
        if not_ready:
            parts.append("not ready: " + ", ".join(f"{h.name} ({_count(h.drift)})" for h in not_ready))
        unreached = [h.name for h in self.hosts if h.unreachable]
        if unreached:
            parts.append("unreachable: " + ", ".join(unreached))
        unchecked = [h.name for h in self.hosts if not h.checked and not h.unreachable]
        if unchecked:
            parts.append("not checked: " + ", ".join(unchecked))
        for tenant in self.tenants:
            if tenant.error:
                parts.append(f"tenant keys unknown ({tenant.error})")
        word = {EXIT_OK: "ok", EXIT_DRIFT: "drift", EXIT_UNKNOWN: "unknown"}[self.exit_code]
        skipped = sum(len(h.skipped) for h in self.hosts)
        # Said on the verdict line too, so an ok that compared less is never read as a full one.
        left_out = f"; {skipped} check{'s' if skipped != 1 else ''} skipped for lack of secrets" if skipped else ""
        if not parts:
            kids = sorted({kid for t in self.tenants for kid in t.kids})
            return f"ok: {total} of {total} hosts match render and the tenant's keys [{', '.join(kids)}]{left_out}"
        return f"{word}: {'; '.join(parts)}; {len(matching)} of {total} hosts match{left_out}"

    def as_json(self) -> dict:
        return {
            "verdict": self.verdict, "exit": self.exit_code,
            "tenants": [{"jwks_url": t.url, "kids": list(t.kids), "error": t.error} for t in self.tenants],
            "hosts": [h.as_json() for h in self.hosts],
        }

    def text(self) -> str:
        lines = []
        for tenant in self.tenants:
            shown = f"unknown: {tenant.error}" if tenant.error else ", ".join(tenant.kids)
            lines.append(f"tenant {tenant.url}: kids {shown}")
        for host in self.hosts:
            lines.extend(_host_lines(host))
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines) + "\n"


def _count(drift: list[Drift]) -> str:
    return f"{len(drift)} difference{'s' if len(drift) != 1 else ''}"


def _host_lines(host: HostReport) -> list[str]:
    if host.unreachable:
        return [f"{host.name}  role {host.role or '?'}  UNREACHABLE: {host.error}"]
    if not host.checked:
        return [f"{host.name}  role {host.role or '?'}  NOT CHECKED: {host.error}"]
    if host.backup_only:
        return [f"{host.name}  role backup  keeps offsite backups only: no stack to compare"]
    docker = host.engine_version or host.docker or "?"
    if host.docker != "running":
        docker = f"{docker} ({host.docker})" if host.engine_version else host.docker
    ready = "-" if not host.runs_api else (str(host.ready) if host.ready else "none")
    kids = "-" if host.kids is None else (", ".join(host.kids) or "none")
    lines = [f"{host.name}  role {host.role}  docker {docker}  compose {host.compose_version or '-'}  "
             f"ready {ready}  kids {kids}  {host.verdict.upper()}"]
    if host.last_run:
        lines.append(f"    {host.last_run}")
    if host.migrations is not None:
        lines.append(f"    migrations {host.migrations['applied']} applied, {host.migrations['pending']} pending")
    if host.runs_db:
        lines.append(f"    backup {host.backup['name']}, {backups.shown_age(host.backup['age_hours'])} old"
                     if host.backup else "    backup none")
    for service, seen in host.services.items():
        state = seen["status"] + (f" ({seen['health']})" if seen["health"] else "")
        image_id = short_id(seen["image_id"]) if seen["image_id"] else "-"
        lines.append(f"    {service:<10} {seen['image']}  {image_id}  {state}")
    for drift in host.drift:
        lines.append(f"    drift: {drift.line}")
    for skipped in host.skipped:
        lines.append(f"    skipped: {skipped}")
    return lines
