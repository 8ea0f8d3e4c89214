#!/usr/bin/env bash
# Prints an ID token for a user of the deployed user pool, creating the user on first use:
#   npm run -s localstack:token -- alice
# The API's JWT authorizer accepts it (audience = the app client). Needs the AWS CLI v2.
source "$(dirname "$0")/common.sh"
require aws "AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
name="${1:?usage: token.sh <name or e-mail>}"
# The pool signs in by e-mail (the e-mail is the username).
case "$name" in *@*) username="$name" ;; *) username="$name@example.com" ;; esac
pool="$(output UserPoolId)"
client="$(output UserPoolClientId)"
# A fresh password per call satisfies the pool's policy (12+ chars, all classes).
password="Pw1!$(node -e 'process.stdout.write(require("crypto").randomBytes(12).toString("hex"))')Aa"

if ! awsl cognito-idp admin-get-user --user-pool-id "$pool" --username "$username" >/dev/null 2>&1; then
  awsl cognito-idp admin-create-user --user-pool-id "$pool" --username "$username" \
    --user-attributes "Name=email,Value=$username" "Name=email_verified,Value=true" \
    --message-action SUPPRESS >/dev/null
fi
awsl cognito-idp admin-set-user-password --user-pool-id "$pool" --username "$username" \
  --password "$password" --permanent >/dev/null
awsl cognito-idp admin-initiate-auth --user-pool-id "$pool" --client-id "$client" \
  --auth-flow ADMIN_USER_PASSWORD_AUTH \
  --auth-parameters "USERNAME=$username,PASSWORD=$password" \
  --query "AuthenticationResult.IdToken" --output text
