# The image the concurrency suite runs against when a Docker engine answers (Testcontainers).
# Pinned by digest so every run tests the same server build. Without Docker the suite uses eng/pg-local.sh.
FROM postgres:15.18-bookworm@sha256:0000000000000000000000000000000000000000000000000000000000000000
