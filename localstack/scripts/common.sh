# Sourced by the other scripts: where LocalStack is and how to talk to it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUTPUTS_FILE="$ROOT/localstack/.outputs.json"
STACK_NAME="TaskPipeline-localstack"

# LocalStack accepts any credentials; these keep the CLI and SDKs away from a real account.
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost.localstack.cloud:4566}"

# cdklocal (aws-cdk-local) is a thin wrapper that points the project's own aws-cdk CLI at
# LocalStack. Run through npx at a pinned version instead of being a dependency; NODE_PATH
# lets it find this project's aws-cdk.
AWS_CDK_LOCAL_VERSION="${AWS_CDK_LOCAL_VERSION:-3.0.4}"
cdklocal() {
  NODE_PATH="$ROOT/node_modules${NODE_PATH:+:$NODE_PATH}" \
    npx --yes "aws-cdk-local@$AWS_CDK_LOCAL_VERSION" "$@"
}

# The AWS CLI against LocalStack (AWS_ENDPOINT_URL is honoured by AWS CLI v2 >= 2.13).
awsl() {
  aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"
}

require() {
  command -v "$1" >/dev/null 2>&1 || { echo "missing: $1 ($2)" >&2; exit 1; }
}

# Docker with a running daemon and the compose plugin. Checked piece by piece: without the
# plugin, `docker compose -f ...` fails with docker's own "unknown shorthand flag: 'f'".
require_docker() {
  if ! command -v docker >/dev/null 2>&1; then
    echo "missing: the docker CLI (not on PATH). Install Docker Desktop or Docker Engine: https://docs.docker.com/get-docker/" >&2
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "missing: a running Docker daemon (\`docker info\` failed). Start Docker Desktop, or the engine (e.g. sudo systemctl start docker); check with: docker info" >&2
    exit 1
  fi
  if ! docker compose version >/dev/null 2>&1; then
    echo "missing: the docker compose plugin (\`docker compose version\` failed). Install it: https://docs.docker.com/compose/install/ (Linux packages: docker-compose-plugin)" >&2
    exit 1
  fi
}

# A value from the last deploy's outputs, e.g. `output ApiUrl`.
output() {
  [ -f "$OUTPUTS_FILE" ] || { echo "no $OUTPUTS_FILE: run npm run localstack:deploy first" >&2; exit 1; }
  node -e '
    const [file, stack, key] = process.argv.slice(1);
    const value = JSON.parse(require("fs").readFileSync(file, "utf8"))[stack]?.[key];
    if (!value) { console.error(`output ${key} not found in ${file}`); process.exit(1); }
    process.stdout.write(value);
  ' "$OUTPUTS_FILE" "$STACK_NAME" "$1"
}
