#!/usr/bin/env bash
# Starts LocalStack and waits until it answers.
source "$(dirname "$0")/common.sh"
require_docker
: "${LOCALSTACK_AUTH_TOKEN:?set LOCALSTACK_AUTH_TOKEN (https://app.localstack.cloud, Auth Tokens)}"

docker compose -f "$ROOT/localstack/docker-compose.yml" up -d --wait
curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" | node -e '
  let body = ""; process.stdin.on("data", (c) => (body += c)).on("end", () => {
    const services = JSON.parse(body).services ?? {};
    const wanted = ["cloudformation", "lambda", "rds", "rds-data", "apigatewayv2", "cognito-idp", "events", "sqs", "secretsmanager"];
    for (const name of wanted) console.log(`${name.padEnd(16)} ${services[name] ?? "not available (check your plan)"}`);
  });'
