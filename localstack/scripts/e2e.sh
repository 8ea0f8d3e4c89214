#!/usr/bin/env bash
# Runs test/e2e against the API deployed to LocalStack, as a frontend would use it.
# The suite reads (test/support/e2eTarget.ts):
#   E2E_BASE_URL   the API's base URL, no trailing slash
#   E2E_TOKEN      a bearer token for one caller
#   E2E_TOKEN_2    a bearer token for a second caller (the isolation tests)
# Tasks complete only with an Ollama on the host (host.docker.internal:11434) that has the
# models of cdk.json's environments.localstack.ollama pulled.
source "$(dirname "$0")/common.sh"
cd "$ROOT"

api_url="$(output ApiUrl)"
# The output is the AWS form, https://<api-id>.execute-api.<region>.amazonaws.com/; LocalStack
# serves the same API at http://<api-id>.execute-api.localhost.localstack.cloud:4566/.
api_id="${api_url#https://}"
api_id="${api_id%%.*}"
export E2E_BASE_URL="${E2E_BASE_URL:-http://$api_id.execute-api.localhost.localstack.cloud:4566}"
# Two callers (separate assignments, so a failing token.sh stops the script under set -e).
if [ -z "${E2E_TOKEN:-}" ]; then E2E_TOKEN="$(bash "$ROOT/localstack/scripts/token.sh" e2e-alice)"; fi
if [ -z "${E2E_TOKEN_2:-}" ]; then E2E_TOKEN_2="$(bash "$ROOT/localstack/scripts/token.sh" e2e-bob)"; fi
export E2E_TOKEN E2E_TOKEN_2

echo "e2e against $E2E_BASE_URL"
curl -fsS "$E2E_BASE_URL/api/health" && echo
npx vitest run test/e2e "$@"
