"""One release pipeline delivering to a package index, an npm registry and an OCI registry."""
