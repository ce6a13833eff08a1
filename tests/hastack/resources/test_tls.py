"""Certificate sources: cert-manager annotation, existing Secret, self-signed via pulumi-tls."""

from __future__ import annotations

from tests.conftest import minimal_config, objects, run_config


def test_self_signed_certificate_covers_the_hosts_and_is_stored_as_tls_secret() -> None:
    run = run_config(minimal_config(ingress={"hosts": ["a.example.com", "b.example.com"]}))
    (key,) = [r for r in run.resources if r.type == "tls:index/privateKey:PrivateKey"]
    (cert,) = [r for r in run.resources if r.type == "tls:index/selfSignedCert:SelfSignedCert"]
    assert key.inputs["algorithm"] == "ECDSA"
    assert cert.inputs["dnsNames"] == ["a.example.com", "b.example.com"]
    assert "server_auth" in cert.inputs["allowedUses"]
    (secret,) = [s for s in objects(run, "Secret") if s["type"] == "kubernetes.io/tls"]
    assert secret["stringData"] == {"tls.crt": "<redacted>", "tls.key": "<redacted>"}
    (ingress,) = objects(run, "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"] == secret["metadata"]["name"]
    assert "cert-manager.io/cluster-issuer" not in ingress["metadata"]["annotations"]


def test_cert_manager_mode_creates_no_key_material() -> None:
    run = run_config(minimal_config("prod"), "prod")
    assert not [r for r in run.resources if r.type.startswith("tls:")]
