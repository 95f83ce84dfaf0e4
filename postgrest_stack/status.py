"""What a host should hold against what its probe saw: the drift report of ``status``.

Pure: no host, no pyinfra. Input per host is its settings, the files ``render`` gives it
(with the tenant's canonical key file where PostgREST runs), the tenant's kids and the
probed :class:`~postgrest_stack.probe.HostState`; output is a :class:`HostReport` with
one :class:`Drift` per difference, each naming what fixes it. :class:`FleetReport` adds
the verdict line and the exit status (0 all match, 1 drift or not ready, 2 a host
could not be checked).

Nothing here prints a secret: files are compared with :func:`plan.file_is_current`
(secret files by their keyed digest only), and a report names files, modes, owners,
image IDs and kids, never a digest or a file's content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from . import digests, loaded, migrations
from . import plan as planning
from .images import compose_references
from .layout import DIRECTORIES, JWKS_FILE, RenderedFile
from .probe import HostState, PathState
from .render import sql_digest
from .settings import Settings

DEPLOY = "deploy.py"
ROTATE = "rotate_keys.py"

EXIT_OK, EXIT_DRIFT, EXIT_UNKNOWN = 0, 1, 2
#: Every kind of drift line (README, "Day 2", explains each).
DRIFT_KINDS = ("docker", "directory", "file", "sql", "migrations", "service", "image", "ready", "keys", "loaded")


@dataclass(frozen=True)
class Drift:
    """One difference: ``kind`` (docker, directory, file, sql, migrations, service, image,
    ready, keys, loaded), what it is about, what differs, and the command that fixes it."""

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
            "drift": [{"kind": d.kind, "subject": d.subject, "detail": d.detail, "fix": d.fix} for d in self.drift],
        }


# --- One host ------------------------------------------------------------------------


def _mode(mode: int) -> str:
    return f"{mode:04o}"


def _file_drift(relative: str, rendered: RenderedFile, current: PathState | None, digest_key: bytes | None,
                is_key_file: bool) -> Drift | None:
    if planning.file_is_current(current, rendered.content, rendered.mode, rendered.owner_uid, digest_key=digest_key):
        return None
    fix = ROTATE if is_key_file else DEPLOY
    if current is None or current.kind != "f":
        return Drift("file", relative, "missing" if current is None else "not a regular file", fix)
    details = []
    if current.keyed_sha256 is not None:
        same = digest_key is not None and current.keyed_sha256 == digests.keyed(digest_key, rendered.content)
    elif rendered.secret and current.sha256 is None:
        same = False  # a secret file the host could not digest (no digest key there)
    else:
        same = current.sha256 == hashlib.sha256(rendered.content).hexdigest()
    if not same:
        if is_key_file:
            details.append("content differs from the tenant's key set")
        elif rendered.secret:
            details.append("content differs from render (holds secrets: not shown)")
        else:
            details.append("content differs from render")
    if current.mode != rendered.mode:
        details.append(f"mode {_mode(current.mode)}, expected {_mode(rendered.mode)}")
    if (current.uid, current.gid) != (rendered.owner_uid, 0):
        details.append(f"owner {current.uid}:{current.gid}, expected {rendered.owner_uid}:0")
    if not details or any(d.startswith(("mode", "owner")) for d in details):
        fix = DEPLOY  # modes and owners are put back by a deploy
    return Drift("file", relative, "; ".join(details) or "differs from render", fix)


def _directory_drift(relative: str, current: PathState | None) -> Drift | None:
    mode, uid = DIRECTORIES[relative]
    if planning.directory_is_current(current, mode, uid):
        return None
    if current is None or current.kind != "d":
        return Drift("directory", relative, "missing" if current is None else "not a directory", DEPLOY)
    details = []
    if current.mode != mode:
        details.append(f"mode {_mode(current.mode)}, expected {_mode(mode)}")
    if (current.uid, current.gid) != (uid, 0):
        details.append(f"owner {current.uid}:{current.gid}, expected {uid}:0")
    return Drift("directory", relative, "; ".join(details), DEPLOY)


def _service_drift(settings: Settings, files: dict[str, RenderedFile], state: HostState) -> list[Drift]:
    drift = []
    expected = planning.expected_services(files)
    references = compose_references(settings)
    for name in sorted(expected):
        service = state.services.get(name)
        if service is None:
            drift.append(Drift("service", name, "no container (expected running)", DEPLOY))
            continue
        if service.status != "running":
            drift.append(Drift("service", name, f"{service.status} (expected running)", DEPLOY))
        elif service.health in ("unhealthy", "starting"):
            drift.append(Drift("service", name, f"health {service.health} (expected healthy)", DEPLOY))
        wanted = references.get(name)
        if wanted and service.image != wanted:
            drift.append(Drift("image", name, f"runs {service.image}, render names {wanted}", DEPLOY))
        elif wanted and service.image_id and state.images.get(wanted) and state.images[wanted] != service.image_id:
            drift.append(Drift("image", name, f"runs image {short_id(service.image_id)}, the host holds "
                                              f"{short_id(state.images[wanted])} under {wanted}", DEPLOY))
    for name in sorted(set(state.services) - expected):
        if state.services[name].status == "running":
            drift.append(Drift("service", name, "running but not in render", DEPLOY))
    return drift


def short_id(image_id: str) -> str:
    """``sha256:`` and the first 12 hex digits, as ``docker images`` shows an ID."""
    algorithm, _, digest = image_id.partition(":")
    return f"{algorithm}:{digest[:12]}" if digest else image_id[:12]


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


def host_report(name: str, settings: Settings, files: dict[str, RenderedFile], state: HostState,
                tenant: TenantKeys, ledger: list[migrations.Applied] | None = None) -> HostReport:
    """Compare one probed host with what ``render`` and the tenant's keys say it should hold.

    ``files`` is render's output, plus the tenant's canonical key file where PostgREST
    runs (plan.with_jwks) when the tenant's key set was read; without it the key file
    and the kids are not compared (``tenant.error`` says why). ``ledger``: the database's
    ledger rows, read when its digest differs from the folder's (None: not read).
    """
    report = HostReport(name, role=settings.stack_role, docker=state.docker, engine_version=state.engine_version,
                        compose_version=state.compose_version, runs_api=settings.runs_api, tenant=tenant.url)
    report.services = {service: {"image": s.image, "image_id": s.image_id or None, "status": s.status,
                                 "health": s.health or None}
                       for service, s in sorted(state.services.items())}
    drift = report.drift
    if state.docker != "running":
        drift.append(Drift("docker", "engine", "not installed" if state.docker == "missing" else "not running",
                           DEPLOY))

    wanted_dirs = {str(PurePosixPath(relative).parent) for relative in files} | {"."}
    for relative in DIRECTORIES:
        if relative in wanted_dirs:
            found = _directory_drift(relative, state.paths.get(relative))
            if found:
                drift.append(found)
    key = planning.digest_key_of(files)
    for relative in sorted(files):
        if relative == JWKS_FILE and tenant.error:
            continue
        found = _file_drift(relative, files[relative], state.paths.get(relative), key, relative == JWKS_FILE)
        if found:
            drift.append(found)

    # Files in place that the services never loaded (a run that stopped half-way): only
    # where the files themselves are current, else the file lines above say it all.
    for record in loaded.stale(files, key, state):
        names = loaded.sources(record, files)
        if all(planning.file_is_current(state.paths.get(name), files[name].content, files[name].mode,
                                        files[name].owner_uid, digest_key=key) for name in names):
            drift.append(Drift("loaded", record, loaded.NOT_LOADED[record], ROTATE if record == loaded.KEYS else DEPLOY))

    if state.docker == "running":
        if settings.applies_sql:
            expected = f"sql-digest:{sql_digest(files)}"
            if state.sql_digest is None:
                drift.append(Drift("sql", "digest", "none recorded in the database (not applied, or the database "
                                                    "did not answer)", DEPLOY))
            elif state.sql_digest != expected:
                drift.append(Drift("sql", "digest", "the SQL applied differs from render", DEPLOY))
            _migrations(report, files, state, ledger)
        drift.extend(_service_drift(settings, files, state))
        if settings.runs_api:
            report.ready = state.ready
            if state.ready != 200:
                answer = f"answered {state.ready}" if state.ready else "did not answer"
                drift.append(Drift("ready", "postgrest", f"/ready {answer} (expected 200)", DEPLOY))

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
    return report


def unreachable(name: str, reason: str, role: str = "") -> HostReport:
    return HostReport(name, role=role, error=reason, unreachable=True)


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
        if not parts:
            kids = sorted({kid for t in self.tenants for kid in t.kids})
            return f"ok: {total} of {total} hosts match render and the tenant's keys [{', '.join(kids)}]"
        return f"{word}: {'; '.join(parts)}; {len(matching)} of {total} hosts match"

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
    docker = host.engine_version or host.docker or "?"
    if host.docker != "running":
        docker = f"{docker} ({host.docker})" if host.engine_version else host.docker
    ready = "-" if not host.runs_api else (str(host.ready) if host.ready else "none")
    kids = "-" if host.kids is None else (", ".join(host.kids) or "none")
    lines = [f"{host.name}  role {host.role}  docker {docker}  compose {host.compose_version or '-'}  "
             f"ready {ready}  kids {kids}  {host.verdict.upper()}"]
    if host.migrations is not None:
        lines.append(f"    migrations {host.migrations['applied']} applied, {host.migrations['pending']} pending")
    for service, seen in host.services.items():
        state = seen["status"] + (f" ({seen['health']})" if seen["health"] else "")
        image_id = short_id(seen["image_id"]) if seen["image_id"] else "-"
        lines.append(f"    {service:<10} {seen['image']}  {image_id}  {state}")
    for drift in host.drift:
        lines.append(f"    drift: {drift.line}")
    return lines
