"""The local random/tls provider plugins: real values, replace-on-change diffs, preview unknowns."""

from __future__ import annotations

import string
import subprocess
import sys
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from hastack.wire import UNKNOWN
from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.standins.local_providers import (
    LocalProvider,
    from_struct,
    private_key,
    random_password,
    self_signed_cert,
    to_struct,
    unwrap,
)

PASSWORD_URN = (
    "urn:pulumi:dev::hastack::hastack:index:HighlyAvailableApp$random:index/randomPassword:RandomPassword::pw"
)


class AbortedError(Exception):
    pass


class Context:
    """Stands in for grpc.ServicerContext: abort raises, as gRPC's does."""

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise AbortedError(code, details)


def test_password_honours_length_classes_and_minimums() -> None:
    result = unwrap(
        random_password({"length": 40, "special": False, "minNumeric": 5, "minUpper": 5})["result"]
    )
    assert len(result) == 40
    assert set(result) <= set(string.ascii_letters + string.digits)
    assert sum(c.isdigit() for c in result) >= 5
    assert sum(c.isupper() for c in result) >= 5
    assert result != unwrap(random_password({"length": 40, "special": False})["result"])


def test_password_output_is_marked_secret() -> None:
    outputs = random_password({"length": 8})
    assert outputs["result"] != unwrap(outputs["result"])


def test_key_and_self_signed_certificate_are_real() -> None:
    key = private_key({"algorithm": "ECDSA", "ecdsaCurve": "P256"})
    pem = unwrap(key["privateKeyPem"])
    loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    assert loaded.key_size == 256  # type: ignore[union-attr]
    cert = self_signed_cert(
        {
            "privateKeyPem": pem,
            "subject": {"commonName": "shop.example.com", "organization": "acme"},
            "dnsNames": ["shop.example.com", "www.shop.example.com"],
            "validityPeriodHours": 48,
            "allowedUses": ["key_encipherment", "digital_signature", "server_auth"],
        }
    )
    parsed = x509.load_pem_x509_certificate(cert["certPem"].encode())
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert names == ["shop.example.com", "www.shop.example.com"]
    assert (parsed.not_valid_after_utc - parsed.not_valid_before_utc).total_seconds() == 48 * 3600
    assert parsed.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature is True
    assert unwrap(cert["privateKeyPem"]) == pem
    assert cert["privateKeyPem"] != pem, "the key echoed in the outputs stays secret"


def test_any_input_change_replaces_and_no_change_is_a_no_op() -> None:
    provider = LocalProvider("random")
    olds = to_struct({"length": 32, "special": False, "result": "x"})
    same = provider.Diff(
        provider_pb2.DiffRequest(
            urn=PASSWORD_URN, olds=olds, news=to_struct({"length": 32, "special": False})
        ),
        Context(),
    )
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE
    longer = provider.Diff(
        provider_pb2.DiffRequest(
            urn=PASSWORD_URN, olds=olds, news=to_struct({"length": 40, "special": False})
        ),
        Context(),
    )
    assert longer.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(longer.replaces) == ["length"]


def test_preview_reports_computed_outputs_as_unknown() -> None:
    provider = LocalProvider("random")
    created = provider.Create(
        provider_pb2.CreateRequest(urn=PASSWORD_URN, properties=to_struct({"length": 12}), preview=True),
        Context(),
    )
    assert from_struct(created.properties)["result"] == UNKNOWN
    real = provider.Create(
        provider_pb2.CreateRequest(urn=PASSWORD_URN, properties=to_struct({"length": 12})), Context()
    )
    assert real.id
    assert len(unwrap(from_struct(real.properties)["result"])) == 12


def test_other_resource_types_are_refused_by_name() -> None:
    provider = LocalProvider("random")
    with pytest.raises(
        AbortedError, match="RandomUuid is not implemented by hastack's local random provider"
    ):
        provider.Check(
            provider_pb2.CheckRequest(urn="urn:pulumi:s::p::random:index/randomUuid:RandomUuid::u"), Context()
        )


def test_plugin_process_prints_its_port_and_answers_over_grpc() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "hastack_tools.standins.local_providers", "tls"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub: Any = provider_pb2_grpc.ResourceProviderStub(channel)
            from google.protobuf import empty_pb2

            assert stub.GetPluginInfo(empty_pb2.Empty(), timeout=10).version == "5.6.2"
            created = stub.Create(
                provider_pb2.CreateRequest(
                    urn="urn:pulumi:s::p::tls:index/privateKey:PrivateKey::k",
                    properties=to_struct({"algorithm": "ECDSA", "ecdsaCurve": "P256"}),
                ),
                timeout=30,
            )
            assert "BEGIN EC PRIVATE KEY" in unwrap(from_struct(created.properties)["privateKeyPem"])
    finally:
        process.terminate()
        process.wait(timeout=10)
