#!/usr/bin/env bash
# Stops LocalStack and removes its containers (the deployed stack goes with them).
source "$(dirname "$0")/common.sh"
require_docker
docker compose -f "$ROOT/localstack/docker-compose.yml" down
