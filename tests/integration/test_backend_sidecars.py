"""A CLI killed while the file backend writes a checkpoint can leave the checkpoint's metadata sidecar
empty (the blob is renamed into place, the sidecar written in place): seen in CI after a SIGKILL
mid-`up`, every later command failed with `failed to load checkpoint: EOF`, `make up` too. The settle
removes such a sidecar and the state reads again; without it (the counterfactual) the real CLI fails."""

from __future__ import annotations

from pathlib import Path

from hastack_tools.ops import recovery
from hastack_tools.ops.stacks import StackWorkspace, cli, export_state, read_state


def test_a_checkpoint_sidecar_cut_short_is_removed_and_the_state_reads_again(
    engine_env: dict[str, str], tmp_path: Path
) -> None:
    backend = f"file://{tmp_path / 'state'}"
    (tmp_path / "state").mkdir()
    workspace = StackWorkspace("sidecars", "dev", tmp_path / "cache", backend)
    workspace.folder.mkdir(parents=True)
    (workspace.folder / "Pulumi.yaml").write_text("name: sidecars\nruntime: python\n")
    env = {
        **engine_env,
        "PULUMI_BACKEND_URL": backend,
        "PULUMI_CONFIG_PASSPHRASE": "sidecars",
        "PULUMI_HOME": str(tmp_path / "home"),
    }
    created = cli(["stack", "init", "dev", "--secrets-provider", "passphrase"], env, workspace.folder)
    assert created.returncode == 0, created.stderr
    sidecar = tmp_path / "state" / ".pulumi" / "stacks" / "sidecars" / "dev.json.attrs"
    assert sidecar.read_text()
    sidecar.write_text("")  # what the killed CLI left

    broken = cli(["cancel", "--yes", "--stack", "dev"], env, workspace.folder)
    assert broken.returncode != 0 and "failed to load checkpoint: EOF" in broken.stderr

    said: list[str] = []
    recovery.recover(workspace, env, say=said.append)
    assert any(f"removed the metadata file {sidecar}" in line for line in said), said
    assert export_state(workspace, env)["deployment"] is not None
    # the fleet reads the checkpoint file itself: the same deployment the CLI exports
    assert read_state(workspace, env) == export_state(workspace, env)
