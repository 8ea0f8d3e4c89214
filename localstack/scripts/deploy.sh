#!/usr/bin/env bash
# Bootstraps LocalStack for CDK (once) and deploys TaskPipeline-localstack, writing the
# stack outputs to localstack/.outputs.json. Same app, same constructs as AWS: only the
# `localstack` settings in cdk.json differ (Ollama at a URL, disposable data).
source "$(dirname "$0")/common.sh"
require node "https://nodejs.org"
cd "$ROOT"

account="000000000000"
cdklocal bootstrap "aws://$account/$AWS_REGION" -c env=localstack
# migrationsRunId changes on every deploy, so the migrations custom resource runs each time.
cdklocal deploy "$STACK_NAME" \
  -c env=localstack \
  -c "migrationsRunId=$(date +%s)" \
  --require-approval never \
  --outputs-file "$OUTPUTS_FILE"
echo "outputs: $OUTPUTS_FILE"
