"""Offline decryption of `secure:` values: what the gate and render decrypt, and the clear error (exit 2)
for what they cannot: no salt, a wrong passphrase, a broken ciphertext (finding: `secure: v1:notreal`
used to pass CI as a placeholder)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hastack_tools.common.checkout import REPO_ROOT
from hastack_tools.common.stack_secrets import (
    LOCAL_PASSPHRASE,
    StackSecretError,
    decrypter,
    encrypter,
    new_salt,
)
from hastack_tools.dev import gate, render

FILE = Path("Pulumi.dev.yaml")


def test_a_value_round_trips_and_a_wrong_passphrase_is_told_apart() -> None:
    salt = new_salt("right")
    sealed = encrypter(FILE, salt, "right")("s3cr3t")
    assert sealed.startswith("v1:") and "s3cr3t" not in sealed
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PULUMI_CONFIG_PASSPHRASE", "right")
        assert decrypter(FILE, salt)("hastack:x", sealed) == "s3cr3t"
        env.setenv("PULUMI_CONFIG_PASSPHRASE", "wrong")
        with pytest.raises(StackSecretError, match="the passphrase does not open this stack's secrets"):
            decrypter(FILE, salt)("hastack:x", sealed)


@pytest.mark.parametrize(
    ("ciphertext", "why"),
    [
        ("v1:notreal", "not of the form"),
        ("v1:AAAA:AAAA", "nonce size is incorrect"),
        ("v2:a:b", "not of the form"),
    ],
)
def test_a_broken_ciphertext_names_its_key(ciphertext: str, why: str) -> None:
    salt = new_salt(LOCAL_PASSPHRASE)
    with pytest.raises(
        StackSecretError,
        match=rf"hastack:apps\[0\]\.secretEnv\.X: a secure value that does not decrypt .*{why}",
    ):
        decrypter(FILE, salt)("hastack:apps[0].secretEnv.X", ciphertext)


def test_a_value_sealed_for_another_stack_does_not_authenticate() -> None:
    other = encrypter(FILE, new_salt(LOCAL_PASSPHRASE), LOCAL_PASSPHRASE)("x")
    with pytest.raises(StackSecretError, match="message authentication failed"):
        decrypter(FILE, new_salt(LOCAL_PASSPHRASE))("hastack:k", other)


def program_with_secret(tmp_path: Path, *, salt: bool, ciphertext: str | None = None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((REPO_ROOT / "__main__.py").read_text())
    stack = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())
    encryption_salt = new_salt(LOCAL_PASSPHRASE)
    stack.pop("encryptionsalt", None)  # the repo's dev file has its own
    if salt:
        stack["encryptionsalt"] = encryption_salt
    value = ciphertext or encrypter(FILE, encryption_salt, LOCAL_PASSPHRASE)("postgres://db/shop")
    stack["config"]["hastack:apps"][1]["secretEnv"] = {"DB_URL": {"secure": value}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    return tmp_path


def test_the_gate_and_render_decrypt_what_they_can(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    program = program_with_secret(tmp_path, salt=True)
    assert gate.main(["--program", str(program), "--stack", "dev", "--quiet"]) == 0
    assert render.main(["--program", str(program), "--stack", "dev", "--out", str(tmp_path / "out")]) == 0
    rendered = "".join(p.read_text() for p in (tmp_path / "out").rglob("*.yaml"))
    assert "postgres://db/shop" not in rendered and "DB_URL" in rendered
    capsys.readouterr()


@pytest.mark.parametrize(
    ("salt", "ciphertext", "said"),
    [
        (False, None, "a secure value, but the file has no encryptionsalt"),
        (True, "v1:notreal", "a secure value that does not decrypt"),
    ],
)
def test_the_gate_and_render_refuse_what_they_cannot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], salt: bool, ciphertext: str | None, said: str
) -> None:
    program = program_with_secret(tmp_path, salt=salt, ciphertext=ciphertext)
    assert gate.main(["--program", str(program), "--stack", "dev"]) == 2
    assert (
        f"could not evaluate: a stack secret does not decrypt: {program / 'Pulumi.dev.yaml'}: "
        in capsys.readouterr().err
    )
    assert render.main(["--program", str(program), "--stack", "dev", "--out", str(tmp_path / "out")]) == 2
    assert said in capsys.readouterr().err


def test_a_wrong_passphrase_is_exit_2_with_the_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    program = program_with_secret(tmp_path, salt=True)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "not-the-one")
    assert gate.main(["--program", str(program), "--stack", "dev"]) == 2
    assert (
        "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase"
        in capsys.readouterr().err
    )
