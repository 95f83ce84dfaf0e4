"""Every declared setting against values it accepts and values it refuses (table-driven).

Each refusal must be one line naming the setting; TABLE must cover every setting of the
declaration (test_every_setting_is_in_the_table).
"""

from __future__ import annotations

import pytest

from postgrest_stack import settings
from postgrest_stack.settings import SecretRef

DIGEST = "sha256:" + "0123456789abcdef" * 4
API_HOST = {"stack_role": "api", "db_host": "10.0.0.5"}
EDGE = {"tls_mode": "internal", "public_hostname": "api.example.com"}


def good(value, expected=..., **context):
    """A value the setting accepts; ``expected``: what it resolves to (default: itself)."""
    return ("good", value, value if expected is ... else expected, context)


def bad(value, message, **context):
    """A value the setting refuses with one line containing ``message``."""
    return ("bad", value, message, context)


TABLE: dict[str, list[tuple]] = {
    "stack_name": [good("postgrest"), good("orders-2_eu"),
                   bad("Orders", "setting 'stack_name' must be lower-case letters"),
                   bad("-x", "setting 'stack_name' must be"), bad(3, "setting 'stack_name' must be a string"),
                   bad(None, "setting 'stack_name' is not set")],
    "app_dir": [good("/opt/postgrest"), good("/srv/app/", "/srv/app"), good("/var/lib/postgrest"),
                bad("opt/x", "setting 'app_dir' must be an absolute path"), bad("/", "setting 'app_dir' must be an absolute path"),
                bad("/opt/a\nb", "setting 'app_dir' must be a single line"),
                bad("/opt/postgrest/../../etc", "setting 'app_dir' must be a normalised absolute path"),
                bad("/srv", "setting 'app_dir' must be a directory of the stack's own (the deploy makes it root's, "
                    "mode 0700), such as /opt/postgrest: /srv is a system or shared directory, got '/srv'")],
    "docker_install": [good("official"), good("distro"), good("skip"),
                       bad("snap", "setting 'docker_install' must be one of official, distro, skip"),
                       bad("Official", "must be one of")],
    "health_timeout": [good(1), good(3600), good("15", 15),
                       bad(0, "setting 'health_timeout' must be a number of seconds from 1 to 3600"),
                       bad(3601, "from 1 to 3600"), bad(-5, "from 1 to 3600"), bad(True, "from 1 to 3600"),
                       bad(1.5, "from 1 to 3600"), bad("soon", "from 1 to 3600")],
    "apt_proxy": [good(None), good("http://10.0.0.1:3142"), good("https://apt-cache.internal/"),
                  good("http://[fd00::1]:3142"),
                  bad("apt-cache:3142", "setting 'apt_proxy' must be an http(s)://HOST[:PORT] URL"),
                  bad("http://proxy:3142/ ; rm -rf /", "setting 'apt_proxy' must be"),
                  bad("http://proxy:99999", "setting 'apt_proxy' must be"),
                  bad("http://proxy:0", "setting 'apt_proxy' must be"),
                  bad("http://user:pw@proxy:3142", "setting 'apt_proxy' must be")],
    "lock_wait": [good(0), good(3600), good("30", 30),
                  bad(-1, "setting 'lock_wait' must be a number of seconds from 0 to 3600"),
                  bad(3601, "from 0 to 3600"), bad("soon", "from 0 to 3600")],
    "log_max_size": [good("10m"), good("512k"), good("1g"), good("100m"),
                     bad("10", "setting 'log_max_size' must be a size: digits then k, m or g"),
                     bad("10M", "setting 'log_max_size' must be a size"), bad("10mb", "must be a size"),
                     bad("0m", "must be a size"), bad("1.5m", "must be a size"), bad(" 10m", "must be a size"),
                     bad("10m\n", "must be a single line"), bad(10, "must be a string")],
    "log_max_files": [good(5), good(1), good(100), good("7", 7),
                      bad(0, "setting 'log_max_files' must be a number of files from 1 to 100"),
                      bad(101, "from 1 to 100"), bad("five", "from 1 to 100"), bad(True, "from 1 to 100")],
    "postgrest_log_level": [good("error"), good("crit"), good("warn"), good("info"),
                            bad("debug", "setting 'postgrest_log_level' must be one of crit, error, warn, info"),
                            bad("WARN", "must be one of"), bad("warning", "must be one of")],
    "jwks_fetch_timeout": [good(30), good("45", 45), bad(0, "setting 'jwks_fetch_timeout' must be a number of seconds"),
                           bad(100000, "from 1 to 3600")],
    "smoke_token_command": [good(None), good("curl -s https://t/oauth/token | jq -r .access_token"),
                            bad(["curl"], "setting 'smoke_token_command' must be a shell command string")],
    "alert_command": [good(None), good("ops/alert_webhook.py --format slack"),
                      bad(["curl"], "setting 'alert_command' must be a shell command string")],
    "auth0_domain": [good("tenant.eu.auth0.com"), good("login.example.com"),
                     bad(None, "setting 'auth0_domain' is not set"), bad("", "setting 'auth0_domain' is not set"),
                     bad("https://tenant.auth0.com/", "setting 'auth0_domain' must be a host name"),
                     bad("tenant_x.auth0.com", "must be a host name"), bad("10.0.0.1", "must be a host name")],
    "jwks_url": [good(None, "https://tenant.eu.auth0.com/.well-known/jwks.json"),
                 good("https://login.example.com/.well-known/jwks.json"), good("http://127.0.0.1:8000/jwks.json"),
                 good("file:///etc/keys/jwks.json"), good(".local/dev-jwks.json"), good("/srv/jwks.json"),
                 bad("ftp://x/jwks", "setting 'jwks_url' must be an https:// URL, a file:// URL or a path"),
                 bad("https://", "setting 'jwks_url' must be"), bad("https://host:99999/jwks", "setting 'jwks_url' must be"),
                 bad("keys/jwks.json", "setting 'jwks_url' must be")],
    "jwt_audience": [good("https://api.example.com"), good("client-123"), good("urn:example:api"), good("api:v1"),
                     good("my api"), good("a$b"),
                     bad("", "setting 'jwt_audience' is not set"),
                     bad("my api:v1", "setting 'jwt_audience' must be a valid URI when it contains ':'"),
                     bad("http://a b", "must be a valid URI"), bad(":x", "must be a valid URI"),
                     bad("1a:b", "must be a valid URI"), bad("a:b[1]", "must be a valid URI"),
                     bad("a%zz:b", "must be a valid URI")],
    "jwt_issuer": [good(None, "https://tenant.eu.auth0.com/"), good("https://login.example.com/"),
                   bad("https://login example.com/", "setting 'jwt_issuer' must be a valid URI")],
    "jwt_role_claim": [good("role"), good("https://x.example/claims/db role"),
                       bad('a"b', "setting 'jwt_role_claim' must not contain quotes"), bad("a\\b", "jwt_role_claim"),
                       bad("tab\there", "jwt_role_claim")],
    "postgrest_image": [good("postgrest/postgrest:v12.0.2"), good("postgrest/postgrest:v16.2-linux-amd64"),
                        good(f"localhost:5000/postgrest@{DIGEST}", postgrest_version="14.17"),
                        bad("postgrest/postgrest", "setting 'postgrest_image' must name an image with a pinned tag"),
                        bad("localhost:5000/postgrest:latest", "setting 'postgrest_image' must pin a version"),
                        bad("postgrest/postgrest:v11.2.2", "setting 'postgrest_image' names PostgREST 11.2.2, which "
                            "this stack has no configuration for (supported: 12.0.x, 12.2.x, 13.0.x, 14.x or 16.x)"),
                        bad("postgrest/postgrest:v15.0", "names PostgREST 15.0"),
                        bad("postgrest/postgrest:v14.1.2", "names PostgREST 14.1.2"),  # MAJOR.PATCH since 14.0
                        bad("postgrest/postgrest:v16.2.0", "names PostgREST 16.2.0, which this stack has no "
                            "configuration for (PostgREST numbers its releases MAJOR.PATCH from 14.0 on: write 16.2, "
                            "not 16.2.0)"),
                        bad(f"localhost:5000/postgrest@{DIGEST}", "setting 'postgrest_version' is not set: "
                            "'postgrest_image' (localhost:5000/postgrest@sha256:"),
                        bad("postgrest/postgrest:devel", "(supported: 12.0.x, 12.2.x, 13.0.x, 14.x or 16.x)")],
    "postgrest_version": [good(None, "12.0.2"), good("v14.17", "14.17", postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          good("16.2", postgrest_image="postgrest/postgrest:v16.2"),
                          good("13.0.8", postgrest_image="postgrest/postgrest:prod"),
                          bad("16.2", "settings 'postgrest_image' and 'postgrest_version' disagree: the image tag "
                              "names PostgREST 12.0.2, postgrest_version is 16.2"),
                          bad("fourteen", "setting 'postgrest_version' must be a PostgREST version such as 12.0.2",
                              postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          bad("11.2.2", "setting 'postgrest_version' names PostgREST 11.2.2, which this stack has no "
                              "configuration for (supported: 12.0.x, 12.2.x, 13.0.x, 14.x or 16.x)",
                              postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          bad("13.1", "names PostgREST 13.1", postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          # issue 23.7: pyinfra's --data makes 16.2 a float; taken as the version it reads as
                          good(16.2, "16.2", postgrest_image="postgrest/postgrest:v16.2"),
                          good(14.17, "14.17", postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          bad(True, "must be a string, got True", postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          bad(14, "must be a PostgREST version such as 12.0.2 or 14.17",
                              postgrest_image=f"postgrest/postgrest@{DIGEST}"),
                          # issue 23.7: 16.2.0 reads as "16.x": name the MAJOR.PATCH form meant
                          bad("16.2.0", "setting 'postgrest_version' names PostgREST 16.2.0, which this stack has no "
                              "configuration for (PostgREST numbers its releases MAJOR.PATCH from 14.0 on: write "
                              "16.2, not 16.2.0)", postgrest_image=f"postgrest/postgrest@{DIGEST}")],
    "postgres_image": [good("postgres:15.14-bookworm"), good("registry.example.com:443/team/postgres:15"),
                       bad("localhost:5000/pg", "setting 'postgres_image' must name an image with a pinned tag"),
                       bad("postgres@sha256:abc", "setting 'postgres_image' must name an image"),
                       # The oldest PostgreSQL each PostgREST line starts against (versions.py).
                       good("postgres:12.22", postgrest_image="postgrest/postgrest:v12.0.2"),
                       good("postgres:13", postgrest_image="postgrest/postgrest:v14.17"),
                       good("mycorp/db:9", postgrest_image="postgrest/postgrest:v16.2"),  # not the official image
                       bad("postgres:13", "setting 'postgres_image' runs PostgreSQL 13, but PostgREST 16.2 needs "
                           "PostgreSQL 14.0 or later", postgrest_image="postgrest/postgrest:v16.2"),
                       bad("postgres:12.0-bookworm", "runs PostgreSQL 12.0, but PostgREST 13.0.8 needs PostgreSQL 12.1",
                           postgrest_image="postgrest/postgrest:v13.0.8")],
    "swagger_image": [good("swaggerapi/swagger-ui:v5.17.14"),
                      bad("swaggerapi/swagger-ui:latest", "setting 'swagger_image' must pin a version")],
    "caddy_image": [good("caddy:2.6.2"), good(f"caddy@{DIGEST}"),
                    bad("caddy:latest", "setting 'caddy_image' must pin a version"),
                    bad("caddy", "setting 'caddy_image' must name an image with a pinned tag")],
    "image_source": [good("registry"), good("controller"),
                     bad("usb-stick", "setting 'image_source' must be one of registry, controller"),
                     bad(None, "setting 'image_source' is not set")],
    "postgrest_bind": [good("127.0.0.1"), good("10.0.0.5"), good("::1"), good("127.0.0.1", **EDGE),
                       bad("localhost", "setting 'postgrest_bind' must be an IP address"),
                       bad("0.0.0.0", "setting 'postgrest_bind' must be a loopback address when tls_mode is "
                           "'internal' (the edge is the only public entry)", **EDGE)],
    "postgrest_port": [good(3000), good("8000", 8000), good(1), good(65535),
                       bad("abc", "setting 'postgrest_port' must be a port number from 1 to 65535"),
                       bad(70000, "setting 'postgrest_port' must be a port number"), bad(0, "must be a port number"),
                       bad(False, "must be a port number"), bad("3000.0", "must be a port number")],
    "postgrest_admin_port": [good(9001), good("9001", 9001),
                             bad(65536, "setting 'postgrest_admin_port' must be a port number from 1 to 65535")],
    "db_bind": [good("10.0.0.7"), bad("0.0.0.0x", "setting 'db_bind' must be an IP address")],
    "db_port": [good(6543), good("6543", 6543), bad(99999, "setting 'db_port' must be a port number")],
    "swagger_enabled": [good(False), good(True, public_api_url="https://api.example.com"),
                        good("true", True, public_api_url="https://api.example.com"), good("False", False),
                        bad("yes", "setting 'swagger_enabled' must be true or false"), bad(1, "must be true or false"),
                        bad(None, "setting 'swagger_enabled' is not set")],
    "swagger_bind": [good("127.0.0.1"), bad("any", "setting 'swagger_bind' must be an IP address")],
    "swagger_port": [good(8081), good("8081", 8081), bad(-1, "setting 'swagger_port' must be a port number")],
    "public_api_url": [good(None, "http://127.0.0.1:3000"), good("https://api.example.com"),
                       # With the TLS edge: its public origin, the port named unless it is 443.
                       good(None, "https://api.example.com", **EDGE),
                       good(None, "https://api.example.com:8443", edge_https_port=8443, **EDGE),
                       good("https://cdn.example.com/api", **EDGE),
                       good("http://api.example.com:8080/v1"), good("HTTPS://A.example.com"), good("https://[::1]:3000"),
                       good("https://api.example.com/a%20b"),
                       bad("api.example.com", "setting 'public_api_url' must be an absolute http:// or https:// URL"),
                       bad("ftp://x.com", "setting 'public_api_url' must be an absolute"),
                       bad("https://", "must be an absolute"), bad("https://a.com:99999", "must be an absolute"),
                       bad("https://a.com:0", "must be an absolute"), bad("https://a.com:", "must be an absolute"),
                       bad("https://user@a.com", "must be an absolute"), bad("https://a.com/x?y=1", "must be an absolute"),
                       bad("https://a.com#f", "must be an absolute"), bad("https://a b.com", "must be an absolute"),
                       bad("https://a.com/%zz", "must be an absolute")],
    "tls_mode": [good("off"), good("internal", public_hostname="api.example.com"),
                 good("acme", public_hostname="api.example.com", acme_email="ops@example.com"),
                 good("files", public_hostname="api.example.com", tls_cert_file="c.pem", tls_key_file="k.pem"),
                 bad("on", "setting 'tls_mode' must be one of off, acme, files, internal"),
                 bad("letsencrypt", "must be one of off, acme, files, internal"),
                 bad(None, "setting 'tls_mode' is not set")],
    "public_hostname": [good(None), good("api.example.com", tls_mode="internal"),
                        bad(None, "setting 'public_hostname' is not set: tls_mode 'internal' needs the API's DNS name",
                            tls_mode="internal"),
                        bad(None, "setting 'public_hostname' is not set: tls_mode 'acme'", tls_mode="acme",
                            acme_email="ops@example.com"),
                        bad("203.0.113.7", "setting 'public_hostname' must be a DNS name such as 'api.example.com'"),
                        bad("https://api.example.com", "setting 'public_hostname' must be a DNS name"),
                        bad("api example.com", "must be a DNS name")],
    "acme_email": [good(None), good("ops@example.com", tls_mode="acme", public_hostname="api.example.com"),
                   good("ops+tls@mail.example.com"),
                   bad(None, "setting 'acme_email' is not set: tls_mode 'acme' needs a contact address", tls_mode="acme",
                       public_hostname="api.example.com"),
                   bad("ops", "setting 'acme_email' must be a mail address such as ops@example.com"),
                   bad("ops@localhost", "must be a mail address"), bad("o p@example.com", "must be a mail address"),
                   bad("ops@{$HOST}.com", "must be a mail address"), bad("{ops}@example.com", "must be a mail address")],
    "acme_ca": [good(settings.LETS_ENCRYPT), good(settings.LETS_ENCRYPT_STAGING),
                good("https://acme.internal:14000/dir"),
                bad("http://acme.example.com/dir", "setting 'acme_ca' must be an https:// URL with a host"),
                bad("https://user@acme.example.com/dir", "setting 'acme_ca' must be an https:// URL"),
                bad("https://acme.example.com/dir {", "setting 'acme_ca' must be an https:// URL"),
                bad(None, "setting 'acme_ca' is not set")],
    "tls_cert_file": [good(None), good("certs/api.pem"), good("/etc/tls/api.pem"),
                      bad(None, "setting 'tls_cert_file' is not set: tls_mode 'files' needs the certificate",
                          tls_mode="files", public_hostname="api.example.com", tls_key_file="k.pem"),
                      bad("certs/a\nb.pem", "setting 'tls_cert_file' must be a single line")],
    "tls_key_file": [good(None), good("certs/api.key"),
                     bad(None, "setting 'tls_key_file' is not set: tls_mode 'files' needs the certificate and its key",
                         tls_mode="files", public_hostname="api.example.com", tls_cert_file="c.pem"),
                     bad(["k.pem"], "setting 'tls_key_file' must be a string")],
    "edge_bind": [good("0.0.0.0"), good("203.0.113.7", **EDGE), good("::", **EDGE),
                  bad("all", "setting 'edge_bind' must be an IP address")],
    "edge_http_port": [good(80), good("8080", 8080, **EDGE),
                       bad(0, "setting 'edge_http_port' must be a port number from 1 to 65535"),
                       bad(443, "settings 'edge_http_port' and 'edge_https_port' must differ: both publish port 443 "
                           "on 0.0.0.0", **EDGE)],
    "edge_https_port": [good(443), good(8443, **EDGE),
                        bad(70000, "setting 'edge_https_port' must be a port number"),
                        bad(3000, "settings 'postgrest_port' and 'edge_https_port' must differ: both publish port "
                            "3000 on 127.0.0.1 and 0.0.0.0", **EDGE)],
    "edge_max_body_mb": [good(10), good("100", 100), good(1024),
                         bad(0, "setting 'edge_max_body_mb' must be a number of megabytes from 1 to 1024"),
                         bad(4096, "from 1 to 1024")],
    "stack_role": [good("all"), good("db"), good("api", **API_HOST),
                   bad("web", "setting 'stack_role' must be one of all, db, api")],
    "db_host": [good("10.0.0.5", **API_HOST), good("db-1.internal", stack_role="api"), good("fd00::5", stack_role="api"),
                bad("db host", "setting 'db_host' must be a host name or IP address", stack_role="api"),
                bad(None, "setting 'db_host' is not set: an api host needs", stack_role="api")],
    "external_db_uri": [good("postgres://db.example.com:6543/app?sslmode=require", stack_role="api"),
                        good("postgresql://[fd00::5]/app", stack_role="api"),
                        bad("postgres://user:pw@db.example.com/app", "no user or password", stack_role="api"),
                        bad("postgres://db.example.com/app?password=x&user=y",
                            "setting 'external_db_uri' must not carry 'password' in its query", stack_role="api"),
                        bad("postgres://db.example.com/app?user=y", "must not carry 'user'", stack_role="api"),
                        bad("postgres://db.example.com/app?passfile=/p", "must not carry 'passfile'", stack_role="api"),
                        bad("postgres://db.example.com/app?dbname=other", "must not set 'dbname'", stack_role="api"),
                        bad("postgres://db.example.com:99999/app",
                            "setting 'external_db_uri' must have a port from 1 to 65535", stack_role="api"),
                        bad("postgres://db.example.com:0/app", "port from 1 to 65535", stack_role="api"),
                        bad("mysql://db.example.com/app", "must look like", stack_role="api"),
                        bad("postgres://db.example.com/other", "names database 'other'", stack_role="api"),
                        bad("postgres://db.example.com/app", "is for api hosts", stack_role="db")],
    "db_name": [good("shop"), good("order", external_db_uri="postgres://db.example.com/order", stack_role="api"),
                bad("Shop", "setting 'db_name' must be a lower-case SQL identifier")],
    "db_superuser": [good("admin"), bad("user", "setting 'db_superuser' must not be a reserved SQL key word"),
                     bad("pg_admin", "setting 'db_superuser' must not start with 'pg_'"),
                     bad("public", "setting 'db_superuser' must not be 'public'")],
    "db_schema": [good("v1"), good("public"),
                  bad("Api; DROP", "setting 'db_schema' must be a lower-case SQL identifier"),
                  bad("order", "setting 'db_schema' must not be a reserved SQL key word"),
                  bad("left", "must not be a reserved SQL key word"),
                  bad("pg_api", "setting 'db_schema' must not start with 'pg_'"),
                  bad("information_schema", "setting 'db_schema' must not be 'information_schema': PostgREST 16",
                      postgrest_image="postgrest/postgrest:v16.2")],
    "db_anon_role": [good("web_anon"), bad("public", "setting 'db_anon_role' must not be 'public'"),
                     bad("none", "must not be 'none'"), bad("current_user", "must not be a reserved SQL key word"),
                     bad("authenticator", "must differ")],
    "db_user_role": [good("web_user"), bad("user", "setting 'db_user_role' must not be a reserved SQL key word"),
                     bad("pg_monitor", "setting 'db_user_role' must not start with 'pg_'"),
                     bad("api_anon", "must differ")],
    "db_owner_role": [good("schema_owner"),
                      bad("api_anon", "setting 'db_owner_role' must differ from 'db_anon_role'"),
                      bad("web_user", "setting 'db_owner_role' must differ from 'db_user_role'", db_user_role="web_user"),
                      bad("postgres", "setting 'db_owner_role' must differ from 'db_superuser'"),
                      bad("authenticator", "setting 'db_owner_role' must not be 'authenticator'"),
                      bad("Owner", "setting 'db_owner_role' must be a lower-case SQL identifier"),
                      bad("public", "setting 'db_owner_role' must not be 'public'")],
    "migrations_dir": [good("migrations"), good("db/migrations"), good("/srv/schema/migrations"),
                       bad("", "setting 'migrations_dir' is not set"),
                       bad("  ", "setting 'migrations_dir' must be a folder path"),
                       bad("db/\nmigrations", "setting 'migrations_dir' must be a single line")],
    # --- Backups (issue 21)
    "backup_dir": [good(None), good("/srv/backups"), bad("backups", "setting 'backup_dir' must be an absolute path")],
    "backup_offsite": [good(None), good("controller:backups/prod"), good("group:backup"),
                       bad("s3://bucket", "setting 'backup_offsite' must be `controller:PATH` or `group:NAME`")],
    "backup_keep": [good(14), good("3", 3), bad(0, "setting 'backup_keep' must be a number of backups from 1 to 1000")],
    "backup_schedule": [good("daily"), good("*-*-* 03:00"), bad("", "setting 'backup_schedule' is not set")],
    "backup_max_age_hours": [good(26), bad(0, "setting 'backup_max_age_hours' must be a number of hours")],
    "backup_before_migrations": [good(True), good("false", False),
                                 bad("maybe", "setting 'backup_before_migrations' must be true or false")],
    "postgres_upgrade": [good(None), good("dump-restore"),
                         bad("pg_upgrade", "setting 'postgres_upgrade' must be one of dump-restore")],
    "postgres_password": [good(SecretRef("STACK_POSTGRES_PASSWORD")), good(None),
                          bad("given-on-the-command-line", "secret 'postgres_password' must not be given in host data")],
    "authenticator_password": [good(SecretRef("STACK_AUTHENTICATOR_PASSWORD")),
                               bad("x" * 20, "secret 'authenticator_password' must not be given")],
    "secrets_file": [good(None), good("secrets/prod.env"), bad(["a"], "setting 'secrets_file' must be a string")],
    "secrets_command": [good(None), good("sops -d secrets/prod.sops.env"),
                        bad(["sops", "-d"], "setting 'secrets_command' must be a shell command string")],
    "generate_secrets": [good(False), good(True), good("true", True),
                         bad("sometimes", "setting 'generate_secrets' must be true or false")],
    "dev_signing_key": [good(None), good(".local/dev-signing-key.pem"),
                        bad(".local/a\nb", "setting 'dev_signing_key' must be a single line")],
}

CASES = [(name, *case) for name, cases in TABLE.items() for case in cases]


def test_every_setting_is_in_the_table():
    assert list(TABLE) == [s.name for s in settings.SETTINGS]
    for name, cases in TABLE.items():
        kinds = {case[0] for case in cases}
        assert "good" in kinds and "bad" in kinds, name


@pytest.mark.parametrize(("name", "kind", "value", "expected", "context"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]!r}"[:80] for c in CASES])
def test_setting_value(data, name, kind, value, expected, context):
    given = {**data, **context, name: value}
    if kind == "good":
        assert settings.effective(given)[name] == expected
        resolved = settings.resolve(given)
        if settings.SETTINGS_BY_NAME[name].field:
            assert getattr(resolved, name) == expected
        return
    with pytest.raises(settings.SettingsError) as error:
        settings.resolve(given)
    message = str(error.value)
    assert expected in message
    assert "\n" not in message
    assert f"'{name}'" in message
