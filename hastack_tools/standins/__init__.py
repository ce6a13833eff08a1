"""Local stand-ins for provider plugins the Go module proxy cannot serve (random, tls)."""
