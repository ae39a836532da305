# Builds and pushes one image. Run by the buildspec as `bash -c "<this script>" cib-build
# [--build-arg NAME ...] [--secret ...]`: its arguments carry build-argument names only;
# every value arrives in the environment, never in shell text.
set -euo pipefail
if [ "${CIB_DOCKER_SERVER:-false}" != "true" ] && [ -z "${CIB_BUILDER_IMAGE:-}" ]; then
  echo "cib-build: CIB_BUILDER_IMAGE is empty: the support stack's BuilderImage parameter names no BuildKit image (run cib bootstrap again); not pulling one from Docker Hub" >&2
  exit 1
fi
if [ -n "${CIB_INLINE_DOCKERFILE_GZ:-}" ]; then
  # An inline Dockerfile travels gzip-compressed and base64-encoded (CodeBuild allows 4096
  # characters per variable).
  context_dir=$(mktemp -d)
  printf '%s' "$CIB_INLINE_DOCKERFILE_GZ" | base64 -d | gunzip > "$context_dir/Dockerfile"
  dockerfile="$context_dir/Dockerfile"
else
  context_dir="${CODEBUILD_SRC_DIR:-.}"
  dockerfile="$context_dir/${CIB_DOCKERFILE:-Dockerfile}"
fi
args=(--platform "$CIB_PLATFORM" --provenance=false --sbom=false --file "$dockerfile" --tag "$CIB_IMAGE_URI")
if [ -n "${CIB_CONTENT_TAG:-}" ]; then
  # A fixed ImageTag also gets the content tag, so the digest keeps a tag when the fixed
  # tag moves on (the untagged rule never expires an image a stack pointed at).
  args+=(--tag "$CIB_REPOSITORY_URI:$CIB_CONTENT_TAG")
fi
if [ -n "${CIB_TARGET:-}" ]; then
  args+=(--target "$CIB_TARGET")
fi
args+=("$@")
output="type=image,push=true,compression=${CIB_COMPRESSION:-gzip},force-compression=true"
if [ "${CIB_COMPRESSION:-gzip}" = "zstd" ]; then
  output="$output,oci-mediatypes=true"
fi
args+=(--output "$output")
if [ "${CIB_DOCKER_SERVER:-false}" != "true" ]; then
  # The builder runs the support stack's pinned BuildKit image (copied into the account's
  # ECR by cib bootstrap), never moby/buildkit from Docker Hub.
  docker buildx create --name cib --driver docker-container --driver-opt "image=$CIB_BUILDER_IMAGE" --use > /dev/null
  if [ "${CIB_CACHE_DISABLED:-false}" != "true" ] && [ -n "${CIB_CACHE_REF:-}" ]; then
    args+=(--cache-from "type=registry,ref=$CIB_CACHE_REF")
    args+=(--cache-to "type=registry,ref=$CIB_CACHE_REF,mode=max,image-manifest=true,oci-mediatypes=true")
  fi
fi
docker buildx build "${args[@]}" "$context_dir"
