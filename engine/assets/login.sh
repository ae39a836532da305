# Logs in to the image's own registry (also the home of pull-through caches), to each
# registry the template pulls base images from (CIB_PULL_REGISTRIES, <region>:<account>
# pairs, same partition, so the same DNS suffix as our own), to the builder image's ECR
# registry when it is another one, and, when a login secret is set, to the registry it
# names (Docker Hub by default).
set -euo pipefail
aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$CIB_REGISTRY"
dns_suffix=${CIB_REGISTRY#*.dkr.ecr.}
dns_suffix=${dns_suffix#*.}
dns_suffix=${dns_suffix%%/*}
read -r -a pull_registries <<< "${CIB_PULL_REGISTRIES:-}"
# The builder image may live in another account's or region's ECR (the support stack's
# BuilderImage): its registry is logged in to the same way (the role may pull it when the
# template names its repository in PullFromRepositories).
builder_host=${CIB_BUILDER_IMAGE:-}
builder_host=${builder_host%%/*}
if [[ "$builder_host" =~ ^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\. ]] && [ "$builder_host" != "$CIB_REGISTRY" ]; then
  pull_registries+=("${BASH_REMATCH[2]}:${BASH_REMATCH[1]}")
fi
for pull in "${pull_registries[@]}"; do
  pull_region=${pull%%:*}
  pull_account=${pull#*:}
  aws ecr get-login-password --region "$pull_region" \
    | docker login --username AWS --password-stdin "$pull_account.dkr.ecr.$pull_region.$dns_suffix"
done
if [ -n "${CIB_DOCKER_LOGIN_SECRET:-}" ]; then
  login_user=$(printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.username')
  login_server=$(printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.server // empty')
  printf '%s' "$CIB_DOCKER_LOGIN_SECRET" | jq -r '.password' \
    | docker login --username "$login_user" --password-stdin ${login_server:+"$login_server"}
fi
