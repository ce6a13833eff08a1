"""Developer tooling for hastack: run Pulumi programs under mocks, render manifests, gate policies."""
