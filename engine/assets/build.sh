# Builds and pushes one image. Run by the buildspec as `bash -c "$CIB_BUILD_SCRIPT" cib-build
# [--build-arg NAME ...] [--secret ...]`: its arguments carry build-argument names only;
# every value arrives in the environment, never in shell text.
set -euo pipefail
if [ -n "${CIB_INLINE_DOCKERFILE:-}" ]; then
  context_dir=$(mktemp -d)
  printf '%s\n' "$CIB_INLINE_DOCKERFILE" > "$context_dir/Dockerfile"
  dockerfile="$context_dir/Dockerfile"
else
  context_dir="${CODEBUILD_SRC_DIR:-.}"
  dockerfile="$context_dir/${CIB_DOCKERFILE:-Dockerfile}"
fi
args=(--platform "$CIB_PLATFORM" --provenance=false --sbom=false --file "$dockerfile" --tag "$CIB_IMAGE_URI")
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
  docker buildx create --name cib --driver docker-container --use > /dev/null
  if [ "${CIB_CACHE_DISABLED:-false}" != "true" ]; then
    cache_ref="$CIB_REPOSITORY_URI:buildcache"
    args+=(--cache-from "type=registry,ref=$cache_ref")
    args+=(--cache-to "type=registry,ref=$cache_ref,mode=max,image-manifest=true,oci-mediatypes=true")
  fi
fi
docker buildx build "${args[@]}" "$context_dir"
