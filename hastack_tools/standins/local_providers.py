"""Local stand-ins for the `random` and `tls` resource provider plugins, for offline engine runs.

The official plugins are Terraform-bridged Go programs whose modules the Go proxy here does not
serve (toolchain/README.md has the errors), so `make toolchain` cannot build them. This module
implements the Pulumi provider gRPC protocol for exactly the resources hastack uses —
`random:index/randomPassword:RandomPassword`, `tls:index/privateKey:PrivateKey` and
`tls:index/selfSignedCert:SelfSignedCert` — with real randomness and real X.509 certificates, so
`pulumi preview/up/destroy` of the real program works on this machine. Any other resource type is
refused with an error naming this module. Production uses the official plugins.

Started by the engine as `pulumi-resource-random` / `pulumi-resource-tls` (launchers written by
toolchain/build.sh): the first line on stdout is the port, as for every plugin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import string
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent import futures
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict, ParseDict
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from hastack.wire import UNKNOWN  # the engine's sentinel for a value not known until creation

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"

Properties = dict[str, Any]


def secret(value: Any) -> Properties:
    return {SECRET_SIG: SECRET_VALUE_SIG, "value": value}


def unwrap(value: Any) -> Any:
    """Inputs may arrive secret-wrapped; the provider works on the plain value."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE_SIG:
        return unwrap(value["value"])
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def to_struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    return ParseDict(dict(properties), struct_pb2.Struct())


def from_struct(message: struct_pb2.Struct) -> Properties:
    return dict(MessageToDict(message))


# ------------------------------------------------------------------------------------ random


def random_password(inputs: Properties) -> Properties:
    """RandomPassword: each enabled class at least its minimum, the rest from all enabled classes."""
    length = int(inputs.get("length", 16))
    classes = []
    if inputs.get("upper", True):
        classes.append((string.ascii_uppercase, int(inputs.get("minUpper", 0))))
    if inputs.get("lower", True):
        classes.append((string.ascii_lowercase, int(inputs.get("minLower", 0))))
    if inputs.get("numeric", inputs.get("number", True)):
        classes.append((string.digits, int(inputs.get("minNumeric", 0))))
    if inputs.get("special", True):
        classes.append(
            (str(inputs.get("overrideSpecial") or "!@#$%&*()-_=+[]{}<>:?"), int(inputs.get("minSpecial", 0)))
        )
    if not classes:
        raise ValueError("RandomPassword needs at least one character class")
    chosen = [secrets.choice(alphabet) for alphabet, minimum in classes for _ in range(minimum)]
    everything = "".join(alphabet for alphabet, _ in classes)
    chosen += [secrets.choice(everything) for _ in range(max(0, length - len(chosen)))]
    secrets.SystemRandom().shuffle(chosen)
    return {**inputs, "result": secret("".join(chosen[:length]))}


# --------------------------------------------------------------------------------------- tls


def private_key(inputs: Properties) -> Properties:
    algorithm = inputs.get("algorithm", "RSA")
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if algorithm == "ECDSA":
        curves: dict[str, ec.EllipticCurve] = {
            "P224": ec.SECP224R1(),
            "P256": ec.SECP256R1(),
            "P384": ec.SECP384R1(),
            "P521": ec.SECP521R1(),
        }
        key = ec.generate_private_key(curves[str(inputs.get("ecdsaCurve", "P224"))])
    elif algorithm == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(inputs.get("rsaBits", 2048)))
    else:
        raise ValueError(f"PrivateKey algorithm {algorithm!r} is not supported locally (ECDSA, RSA)")
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        **inputs,
        "privateKeyPem": secret(pem),
        "privateKeyPemPkcs8": secret(pkcs8),
        "publicKeyPem": public_pem.decode(),
        "publicKeyOpenssh": openssh + "\n",
        "publicKeyFingerprintSha256": "SHA256:" + hashlib.sha256(der).hexdigest(),
    }


_USAGES = {
    "digital_signature": "digital_signature",
    "key_encipherment": "key_encipherment",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
}
_EXTENDED = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH}


def self_signed_cert(inputs: Properties) -> Properties:
    key = serialization.load_pem_private_key(str(inputs["privateKeyPem"]).encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("SelfSignedCert supports ECDSA and RSA keys locally")
    subject = inputs.get("subject") or {}
    names = [
        x509.NameAttribute(oid, str(subject[key_name]))
        for key_name, oid in (
            ("commonName", NameOID.COMMON_NAME),
            ("organization", NameOID.ORGANIZATION_NAME),
            ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
        )
        if subject.get(key_name)
    ]
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    end = start + dt.timedelta(hours=int(inputs.get("validityPeriodHours", 24)))
    usages = set(inputs.get("allowedUses") or [])
    flags = dict.fromkeys(
        ("content_commitment", "data_encipherment", "key_agreement", "encipher_only", "decipher_only"), False
    )
    flags.update({attribute: use in usages for use, attribute in _USAGES.items()})
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(names))
        .issuer_name(x509.Name(names))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.KeyUsage(**flags), critical=True)
        .add_extension(
            x509.BasicConstraints(ca=bool(inputs.get("isCaCertificate")), path_length=None), critical=True
        )
    )
    extended = [_EXTENDED[use] for use in usages if use in _EXTENDED]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    dns_names = [x509.DNSName(name) for name in inputs.get("dnsNames") or []]
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(dns_names), critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    return {
        **inputs,
        "privateKeyPem": secret(inputs["privateKeyPem"]),
        "certPem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "keyAlgorithm": "ECDSA" if isinstance(key, ec.EllipticCurvePrivateKey) else "RSA",
        "validityStartTime": start.isoformat().replace("+00:00", "Z"),
        "validityEndTime": end.isoformat().replace("+00:00", "Z"),
        "readyForRenewal": False,
    }


Creator = Callable[[Properties], Properties]

RESOURCES: dict[str, dict[str, tuple[Creator, tuple[str, ...]]]] = {
    "random": {"random:index/randomPassword:RandomPassword": (random_password, ("result",))},
    "tls": {
        "tls:index/privateKey:PrivateKey": (
            private_key,
            (
                "privateKeyPem",
                "privateKeyPemPkcs8",
                "publicKeyPem",
                "publicKeyOpenssh",
                "publicKeyFingerprintSha256",
            ),
        ),
        "tls:index/selfSignedCert:SelfSignedCert": (
            self_signed_cert,
            ("certPem", "keyAlgorithm", "validityStartTime", "validityEndTime", "readyForRenewal"),
        ),
    },
}
VERSIONS = {"random": "4.21.4", "tls": "5.6.2"}
"""The versions the pinned Python SDKs ask the engine for."""


def resource_type(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", maxsplit=1)[-1]


class LocalProvider(provider_pb2_grpc.ResourceProviderServicer):
    """Every input forces replacement (as in the official providers); outputs are computed on create."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.resources = RESOURCES[package]

    def _lookup(self, urn: str, context: grpc.ServicerContext) -> tuple[Creator, tuple[str, ...]]:
        kind = resource_type(urn)
        if kind not in self.resources:
            supported = ", ".join(self.resources)
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{kind} is not implemented by hastack's local {self.package} provider "
                f"(hastack_tools/standins/local_providers.py; supported: {supported})",
            )
        return self.resources[kind]

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return plugin_pb2.PluginInfo(version=VERSIONS[self.package])

    def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=f'{{"name": "{self.package}"}}')

    def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._lookup(request.urn, context)
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        _, computed = self._lookup(request.urn, context)
        olds = unwrap(from_struct(request.old_inputs if request.HasField("old_inputs") else request.olds))
        news = unwrap(from_struct(request.news))
        changed = sorted(k for k in set(olds) | set(news) if k not in computed and olds.get(k) != news.get(k))
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME, replaces=changed, diffs=changed
        )

    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        create, computed = self._lookup(request.urn, context)
        inputs = from_struct(request.properties)
        if request.preview:
            return provider_pb2.CreateResponse(
                properties=to_struct({**inputs, **dict.fromkeys(computed, UNKNOWN)})
            )
        try:
            outputs = create(unwrap(inputs))
        except (KeyError, ValueError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{resource_type(request.urn)}: {error}")
        return provider_pb2.CreateResponse(id=secrets.token_hex(8), properties=to_struct(outputs))

    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        """Nothing lives outside the state, so a refresh reads back what the state holds."""
        return provider_pb2.ReadResponse(id=request.id, properties=request.properties, inputs=request.inputs)

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        """Only reached when no input changed (every change replaces); keep the outputs."""
        return provider_pb2.UpdateResponse(properties=request.olds)

    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()


def serve(package: str) -> None:
    """Starts the plugin the way the engine expects: listen on loopback, print the port, serve."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(LocalProvider(package), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    threading.Thread(target=exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    print(port, flush=True)
    server.wait_for_termination()


def exit_when_orphaned(parent: int, every_s: float = 1.0) -> None:
    """Ends the plugin once the engine that started it is gone (a CLI killed with SIGKILL never shuts
    its plugins down; reparented, this one would otherwise serve nobody for ever)."""
    while os.getppid() == parent:
        time.sleep(every_s)
    os._exit(0)


if __name__ == "__main__":
    serve(sys.argv[1])
