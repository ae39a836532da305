# Logs in to the image's own registry (also the home of pull-through caches) and, when a
# login secret is set, to the registry it names (Docker Hub by default).
set -euo pipefail
aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$CIB_REGISTRY"
if [ -n "${CIB_DOCKER_LOGIN_SECRET:-}" ]; then
  login_user=$(printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.username')
  login_server=$(printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.server // empty')
  printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.password' \
    | docker login --username "$login_user" --password-stdin ${login_server:+"$login_server"}
fi
