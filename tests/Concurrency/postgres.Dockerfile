# The image the concurrency suite runs against when a Docker engine answers (Testcontainers reads the FROM line).
# Pin it by digest (postgres:15.x-bookworm@sha256:...) on a machine that can resolve one: this repository's build
# machines have no registry access, so the tag is pinned to the same major/minor as the Debian package eng/pg-local.sh uses.
FROM postgres:15.18-bookworm
