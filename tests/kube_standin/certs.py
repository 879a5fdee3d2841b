"""What kubeadm gives an API server, made for the stand-in: a cluster CA, a server
certificate for 127.0.0.1 signed by it, and the admin kubeconfig (CA data and a bearer
token) that kubespray leaves in /root/.kube/config."""

from __future__ import annotations

import base64
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _cert(subject, issuer, key, sign_key, ca: bool, san=None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(sign_key, hashes.SHA256())


def certificates(directory: Path) -> tuple[bytes, Path, Path]:
    """(CA certificate PEM, server certificate file, server key file) in `directory`."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("kubernetes", "kubernetes", ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    server = _cert("kube-apiserver", "kubernetes", key, ca_key, False, san)
    crt, pem = directory / "apiserver.crt", directory / "apiserver.key"
    crt.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem.chmod(0o600)
    return ca.public_bytes(serialization.Encoding.PEM), crt, pem


def admin_kubeconfig(ca: bytes, server: str, token: str) -> str:
    """An admin kubeconfig as kubespray leaves it (names as kubeadm's admin.conf)."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: cluster.local
  cluster:
    certificate-authority-data: {base64.b64encode(ca).decode()}
    server: {server}
contexts:
- name: kubernetes-admin@cluster.local
  context: {{cluster: cluster.local, user: kubernetes-admin}}
current-context: kubernetes-admin@cluster.local
users:
- name: kubernetes-admin
  user: {{token: {token}}}
"""
