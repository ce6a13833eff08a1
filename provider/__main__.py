"""Plugin entry point of the hastack component package (see PulumiPlugin.yaml)."""

from hastack.provider import main

main()
