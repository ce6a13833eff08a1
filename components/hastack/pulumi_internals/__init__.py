"""Where hastack reaches past the Pulumi SDKs' documented API, all of it here: `private`, the one
adapter for their internal names, and the opt-out speed-ups built on it (`sdk_patches` and
`gc_tuning` for program runs, `decode_once` for the policy pack), each switched off by an
environment variable read through `switches`. An SDK upgrade is checked here and nowhere else."""
