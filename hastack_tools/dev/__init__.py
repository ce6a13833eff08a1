"""Developer tooling: run a Pulumi program under mocks, render its manifests, gate it offline."""
