"""The jobs' Redshift connection (clv_jobs/redshift.py) through redshift-connector's real code,
against a local stand-in: Redshift speaks PostgreSQL's wire protocol, so a small proxy in front
of the test PostgreSQL server plays the cluster. It drops the startup parameters only Redshift
knows (PostgreSQL refuses unknown ones: `client_protocol_version`, `driver_version`, ...), ends
TLS itself with a certificate from a test CA (trusted through SSL_CERT_FILE, as a private CA
is), writes PostgreSQL's SCRAM offer without the list's closing null (redshift-connector reads
that null as an empty mechanism's name) and reports Redshift's server_version, 8.0.2 (the
connector parses it as a version number, which "15.18 (Debian ...)" is not). Everything else,
the password check included, is PostgreSQL's. IAM credentials come from moto's Redshift API."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import struct
import subprocess
import threading
from pathlib import Path

import boto3
import psycopg2
import pytest

from clv_jobs import redshift, warehouse
from conftest import BIN, PROJECT_DIR, pg_env

SSL_REQUEST = 80877103
AUTHENTICATION_SASL = 10
REDSHIFT_SERVER_VERSION = b"8.0.2"
# What PostgreSQL accepts in a startup packet; redshift-connector also sends its driver's
# version, the OS and protocol extensions.
KEPT_PARAMETERS = {"user", "database", "application_name"}


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed during startup")
        data += chunk
    return data


def _read_startup(sock: socket.socket) -> bytes:
    (length,) = struct.unpack("!I", _read_exactly(sock, 4))
    return _read_exactly(sock, length - 4)


class RedshiftStandIn:
    """A TCP proxy on 127.0.0.1 that forwards Redshift clients to PostgreSQL, recording the
    startup parameters each client sent."""

    def __init__(self, upstream: tuple[str, int], tls: ssl.SSLContext):
        self.upstream = upstream
        self.tls = tls
        self.startups: list[dict[str, str]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            body = _read_startup(client)
            if struct.unpack("!I", body[:4])[0] == SSL_REQUEST:
                client.sendall(b"S")
                client = self.tls.wrap_socket(client, server_side=True)
                body = _read_startup(client)
        except (ConnectionError, ssl.SSLError):
            client.close()
            return
        fields = body[4:].split(b"\0")
        params = {fields[i].decode(): fields[i + 1].decode() for i in range(0, len(fields) - 1, 2) if fields[i]}
        self.startups.append(params)
        kept = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items() if k in KEPT_PARAMETERS)
        packet = body[:4] + kept + b"\0"
        server = socket.create_connection(self.upstream)
        server.sendall(struct.pack("!I", len(packet) + 4) + packet)
        threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
        try:
            self._relay_authentication(server, client)
        except ConnectionError:
            return
        self._pipe(server, client)

    @staticmethod
    def _relay_authentication(server: socket.socket, client: socket.socket) -> None:
        """Server to client, message by message, until the server is ready for queries or fails."""
        while True:
            kind = _read_exactly(server, 1)
            (length,) = struct.unpack("!I", _read_exactly(server, 4))
            body = _read_exactly(server, length - 4)
            if kind == b"R" and struct.unpack("!I", body[:4])[0] == AUTHENTICATION_SASL:
                body = body[:-1]
            if kind == b"S" and body.startswith(b"server_version\0"):
                body = b"server_version\0" + REDSHIFT_SERVER_VERSION + b"\0"
            client.sendall(kind + struct.pack("!I", len(body) + 4) + body)
            if kind in (b"E", b"Z"):
                return

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                try:
                    each.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


def _test_ca(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA certificate (written as PEM) and the server context of a certificate it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, key, signer, extensions):
        builder = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        builder = builder.serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(1))
        builder = builder.not_valid_after(now + datetime.timedelta(1))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clv test CA")])
    ca = certificate(ca_name, ca_name, ca_key, ca_key, [(x509.BasicConstraints(ca=True, path_length=None), True)])
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        ca_name,
        server_key,
        ca_key,
        [(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)],
    )
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


@pytest.fixture(scope="module")
def standin(postgres_dsn, tmp_path_factory):
    env = pg_env()
    ca, tls = _test_ca(tmp_path_factory.mktemp("redshift-ca"))
    proxy = RedshiftStandIn((env["CLV_PG_HOST"], int(env["CLV_PG_PORT"])), tls)
    proxy.ca = ca
    yield proxy
    proxy.close()


@pytest.fixture()
def prod_env(standin, monkeypatch):
    """The prod profile's env vars, pointing at the stand-in (password method)."""
    env = pg_env()
    values = {
        "CLV_DBT_TARGET": "prod",
        "CLV_REDSHIFT_HOST": "127.0.0.1",
        "CLV_REDSHIFT_PORT": str(standin.port),
        "CLV_REDSHIFT_USER": env["CLV_PG_USER"],
        "CLV_REDSHIFT_PASSWORD": env["CLV_PG_PASSWORD"],
        "CLV_REDSHIFT_DATABASE": env["CLV_PG_DATABASE"],
        "CLV_PII_SALT": "a-test-salt-from-secrets-manager",
        "SSL_CERT_FILE": str(standin.ca),  # the stand-in's CA, as a private CA would be trusted
    }
    for name in ("CLV_REDSHIFT_METHOD", "CLV_REDSHIFT_CLUSTER_ID", "CLV_REDSHIFT_IAM_PROFILE", "CLV_REDSHIFT_SSLMODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_the_jobs_write_and_read_through_redshift_connector(prod_env, postgres_dsn, standin, monkeypatch):
    """`clv-jobs pii-key` on prod, then a key rotation once staging's views depend on the key."""
    from clv_jobs.settings import load_settings

    assert warehouse.write_pii_key(load_settings()) == "target prod"
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:  # committed, seen by another client
        cur.execute("select salt from private.pii_key")
        assert cur.fetchall() == [("a-test-salt-from-secrets-manager",)]
        cur.execute("create or replace view private.reads_the_key as select salt from private.pii_key")
    monkeypatch.setenv("CLV_PII_SALT", "the-rotated-salt")
    warehouse.write_pii_key(load_settings())
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("select salt from private.reads_the_key")
        assert cur.fetchall() == [("the-rotated-salt",)]
        cur.execute("drop view private.reads_the_key")
    frame = redshift.query("select 2 as two, 'x' as letter")
    assert frame.to_dict("records") == [{"two": 2, "letter": "x"}]
    # It was redshift-connector that connected: its Redshift-only startup parameters reached the stand-in.
    assert {"client_protocol_version", "driver_version"} <= set(standin.startups[-1])
    assert standin.startups[-1]["user"] == prod_env["CLV_REDSHIFT_USER"]


def test_dbt_redshift_connects_with_the_prod_profile(prod_env, tmp_path):
    proc = subprocess.run(
        [str(BIN / "dbt"), "debug", "--target", "prod", "--profiles-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        env={**os.environ, **prod_env, "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_TARGET_PATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Registered adapter: redshift" in proc.stdout and "OK connection ok" in proc.stdout


def test_iam_asks_the_redshift_api_for_a_temporary_user(prod_env, standin, moto_server, monkeypatch):
    """method iam (as the profile's): no password is read; redshift-connector gets temporary
    credentials for the cluster from the Redshift API (moto's) and logs in as that user. The
    local server has no such role, so the login itself is refused — by PostgreSQL, naming it."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL_REDSHIFT": moto_server.url,
        "CLV_REDSHIFT_REGION": "eu-west-1",
        "CLV_REDSHIFT_METHOD": "iam",
        "CLV_REDSHIFT_CLUSTER_ID": "clv-analytics",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CLV_REDSHIFT_PASSWORD")
    boto3.client("redshift", region_name="eu-west-1", endpoint_url=moto_server.url).create_cluster(
        ClusterIdentifier="clv-analytics",
        NodeType="ra3.xlplus",
        MasterUsername="admin",
        MasterUserPassword="Password1",
    )
    with pytest.raises(Exception, match='user "IAM:clv"'):
        redshift.connect()
    assert standin.startups[-1]["user"] == f"IAM:{prod_env['CLV_REDSHIFT_USER']}"
    monkeypatch.setenv("CLV_REDSHIFT_CLUSTER_ID", "no-such-cluster")
    with pytest.raises(Exception, match="no-such-cluster"):
        redshift.connect()


def test_connection_settings_fail_naming_what_is_missing():
    with pytest.raises(ValueError, match=r"method database\) needs the env vars \['CLV_REDSHIFT_PASSWORD'\]"):
        redshift.connect_kwargs({"CLV_REDSHIFT_HOST": "h", "CLV_REDSHIFT_USER": "u"})
    with pytest.raises(ValueError, match=r"method iam\) needs the env vars \['CLV_REDSHIFT_CLUSTER_ID'\]"):
        redshift.connect_kwargs({"CLV_REDSHIFT_HOST": "h", "CLV_REDSHIFT_USER": "u", "CLV_REDSHIFT_METHOD": "iam"})
    serverless = redshift.connect_kwargs(
        {
            "CLV_REDSHIFT_HOST": "clv.123456789012.eu-west-1.redshift-serverless.amazonaws.com",
            "CLV_REDSHIFT_USER": "u",
            "CLV_REDSHIFT_METHOD": "iam",
        }
    )
    assert serverless["is_serverless"] and serverless["iam"] and serverless["cluster_identifier"] is None
    assert serverless["ssl"] and serverless["sslmode"] == "verify-ca"  # require verifies the CA, as dbt-redshift
    with pytest.raises(ValueError, match="CLV_REDSHIFT_METHOD='okta'"):
        redshift.connect_kwargs({"CLV_REDSHIFT_METHOD": "okta"})
