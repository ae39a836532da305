#!/usr/bin/env bash
# The real-account acceptance run: what a new user would do, on a real AWS account, timed.
# Not part of the test command or CI: it creates billable resources (see README,
# "Acceptance run on a real account").
#
#   scripts/acceptance.sh --account 123456789012 [--region us-east-1]
#                         [--replica-region us-west-2] [--bare-region eu-west-2]
#                         [--stack-name cib-acceptance] [--keep]
#
# Steps: bootstrap (home and replica region, never the bare region); deploy
# samples/acceptance (an arm64 image feeding an arm64 Lambda, an image with a replica region,
# an inline Dockerfile, a multi-platform image, a fixed tag, an image replicated to the bare
# region); check the bare region's repository got our settings and the image; invoke the
# function; redeploy unchanged (no build may start); change one build argument (exactly one
# build); change the multi-platform and fixed-tag images and break another one (the stack
# must roll back: the index and the fixed tag back to their old digests); invoke the provider
# with a forged request (nothing may start); a gated image with findings (its create fails,
# no tag stays); a tarball image (pushed, no build); delete the stacks and list what is
# retained. Every step prints its time; any failed assertion stops the run with exit code 1.
# Needs the AWS CLI, jq and skopeo.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

account=""
region="us-east-1"
replica_region="us-west-2"
bare_region="eu-west-2"
stack="cib-acceptance"
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --account) account="${2:-}"; shift 2 ;;
    --region) region="${2:-}"; shift 2 ;;
    --replica-region) replica_region="${2:-}"; shift 2 ;;
    --bare-region) bare_region="${2:-}"; shift 2 ;;
    --stack-name) stack="${2:-}"; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

fail() { printf 'acceptance: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in aws jq skopeo; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is required (see the header of $0)"
done
if [ -z "$account" ]; then
  fail "--account ID is required and must be the account of the current AWS credentials"
fi
caller=$(aws sts get-caller-identity --query Account --output text) \
  || fail "cannot read the caller's account (aws sts get-caller-identity)"
if [ "$caller" != "$account" ]; then
  fail "the credentials belong to account $caller, not $account: refusing to start"
fi

run_start=$(date +%s)
step_start=$run_start
step() {
  local now
  now=$(date +%s)
  printf '\n==> [%4ds] %s\n' "$((now - run_start))" "$*"
  step_start=$now
}
done_step() {
  printf '    done in %ds\n' "$(($(date +%s) - step_start))"
}

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cib/target}"
template=samples/acceptance/template.yaml
cib="$CARGO_TARGET_DIR/release/cib"

step "build cib and the Lambda zips"
cargo build --release --locked -p cib
scripts/build-lambdas.sh --arm64
done_step

step "bootstrap $region and the replica region $replica_region"
"$cib" bootstrap --region "$region"
"$cib" bootstrap --region "$replica_region"
done_step

# Total number of builds ever started in the stack's projects.
build_count() {
  local total=0 project count
  for project in "$stack-ContainerImageBuildProjectArm64" "$stack-ContainerImageBuildProjectAmd64"; do
    count=$(aws codebuild list-builds-for-project --region "$region" --project-name "$project" \
      --query 'length(ids)' --output text 2>/dev/null || echo 0)
    total=$((total + count))
  done
  printf '%s' "$total"
}

output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

invoke() {
  local out
  out=$(mktemp)
  aws lambda invoke --region "$region" --function-name "$(output FunctionName)" "$out" >/dev/null
  cat "$out"
  rm -f "$out"
}

deploy() {
  "$cib" deploy "$template" --stack-name "$stack" --region "$region" \
    --parameter-overrides "ReplicaRegion=$replica_region" "BareRegion=$bare_region" "$@"
}

# The digest `tag` names in `repository` of `region`.
digest_of() {
  aws ecr describe-images --region "$1" --repository-name "$2" --image-ids "imageTag=$3" \
    --query 'imageDetails[0].imageDigest' --output text
}

step "deploy the stack (first build of every image)"
deploy Greeting=hello Version=1 BreakWorker=no
done_step

step "the bare region $bare_region (no support stack) got a repository with our settings"
bare_repo=$(output BareReplicaRepository)
settings=$(aws ecr describe-repositories --region "$bare_region" --repository-names "$bare_repo" \
  --query 'repositories[0].[imageTagMutability, imageScanningConfiguration.scanOnPush]' \
  --output text) || fail "no repository $bare_repo in $bare_region"
[ "$settings" = "$(printf 'IMMUTABLE\tTrue')" ] \
  || fail "$bare_repo in $bare_region has settings $settings, expected IMMUTABLE and scan on push"
images=$(aws ecr describe-images --region "$bare_region" --repository-name "$bare_repo" \
  --query 'length(imageDetails)' --output text)
[ "$images" -ge 1 ] || fail "the image never reached $bare_region"
done_step

step "invoke the arm64 function"
answer=$(invoke)
printf '    %s\n' "$answer"
[[ "$answer" == *'"hello"'* ]] || fail "the function answered $answer, expected the greeting hello"
done_step

step "redeploy unchanged: no build may start"
before=$(build_count)
deploy Greeting=hello Version=1 BreakWorker=no
after=$(build_count)
[ "$after" = "$before" ] || fail "an unchanged redeploy started $((after - before)) build(s)"
done_step

step "change one build argument: exactly one build"
before=$(build_count)
deploy Greeting=bonjour Version=1 BreakWorker=no
after=$(build_count)
[ "$((after - before))" = 1 ] || fail "changing GREETING started $((after - before)) builds, expected 1"
answer=$(invoke)
[[ "$answer" == *'"bonjour"'* ]] || fail "the function answered $answer after the update"
done_step

step "change MultiImage and FixedImage, break WorkerImage: everything must roll back"
# WorkerImage depends on both, so they are updated (a new index, the fixed tag moved)
# before it fails, and the rollback must rewrite the index and move the tag back.
worker_before=$(output WorkerImageUri)
multi_before=$(output MultiImageUri)
fixed_before=$(output FixedImageDigest)
fixed_repo=$(output FixedImageRepository)
if deploy Greeting=bonjour Version=2 BreakWorker=yes; then
  fail "a deploy with a broken Dockerfile succeeded"
fi
status=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].StackStatus' --output text)
[ "$status" = UPDATE_ROLLBACK_COMPLETE ] || fail "stack status $status after the failed update"
[ "$(output WorkerImageUri)" = "$worker_before" ] || fail "WorkerImageUri changed after the rollback"
[ "$(output MultiImageUri)" = "$multi_before" ] || fail "MultiImageUri changed after the rollback"
[ "$(output FixedImageDigest)" = "$fixed_before" ] || fail "FixedImageDigest changed after the rollback"
[ "$(digest_of "$region" "$fixed_repo" release)" = "$fixed_before" ] \
  || fail "the fixed tag release does not name $fixed_before again after the rollback"
answer=$(invoke)
[[ "$answer" == *'"bonjour"'* ]] || fail "the function answered $answer after the rollback"
done_step

step "a forged invocation of the provider starts nothing"
before=$(build_count)
stack_id=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].StackId' --output text)
token="arn:aws:lambda:$region:$account:function:ContainerImageBuild-Provider"
url="https://cloudformation-custom-resource-response-${region//-/}.s3.amazonaws.com/forged?X-Amz-Signature=x"
payload=$(jq -n --arg stack "$stack_id" --arg url "$url" --arg token "$token" '{
  RequestType: "Create", ServiceToken: $token, ResponseURL: $url, StackId: $stack,
  RequestId: "forged-1", LogicalResourceId: "FunctionImage",
  ResourceType: "Custom::ContainerImageBuild",
  ResourceProperties: {ServiceToken: $token,
    BuildSpec: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo forged"}}')
forged=$(mktemp)
aws lambda invoke --region "$region" --function-name ContainerImageBuild-Provider \
  --cli-binary-format raw-in-base64-out --payload "$payload" "$forged" >/dev/null
grep -q '"refused"' "$forged" || fail "the provider did not refuse a forged request: $(cat "$forged")"
rm -f "$forged"
sleep 30
[ "$(build_count)" = "$before" ] || fail "a forged request started a build"
done_step

step "a gated image with findings: its create fails and no tag stays"
gated="$stack-gated"
if "$cib" deploy samples/acceptance/gated.yaml --stack-name "$gated" --region "$region"; then
  fail "an image with findings at or above LOW was deployed"
fi
reason=$(aws cloudformation describe-stack-events --region "$region" --stack-name "$gated" \
  --query "StackEvents[?LogicalResourceId=='GatedImage' && ResourceStatus=='CREATE_FAILED'].ResourceStatusReason | [0]" \
  --output text)
[[ "${reason,,}" == *finding* ]] || fail "GatedImage failed for another reason: $reason"
gated_uuid=$(aws cloudformation describe-stacks --region "$region" --stack-name "$gated" \
  --query 'Stacks[0].StackId' --output text | awk -F/ '{print $NF}')
tagged=$(aws ecr describe-images --region "$region" --repository-name "cib/gatedimage-$gated_uuid" \
  --filter tagStatus=TAGGED --query 'length(imageDetails)' --output text 2>/dev/null || echo 0)
[ "$tagged" = 0 ] || fail "the rejected image kept a tag"
aws cloudformation delete-stack --region "$region" --stack-name "$gated"
done_step

step "a tarball image: pushed by the provider, no build"
skopeo copy --override-os linux --override-arch amd64 \
  docker://public.ecr.aws/docker/library/busybox:stable oci-archive:samples/acceptance/busybox.tar
tarball="$stack-tarball"
"$cib" deploy samples/acceptance/tarball.yaml --stack-name "$tarball" --region "$region"
tarball_uri=$(aws cloudformation describe-stacks --region "$region" --stack-name "$tarball" \
  --query "Stacks[0].Outputs[?OutputKey=='TarballImageUri'].OutputValue" --output text)
tarball_repo=${tarball_uri#*/}
tarball_repo=${tarball_repo%:*}
[ "$(digest_of "$region" "$tarball_repo" "${tarball_uri##*:}")" != None ] \
  || fail "no image under $tarball_uri"
done_step

if [ "$keep" = true ]; then
  step "kept the stack $stack (--keep)"
  exit 0
fi

step "delete the stacks and list what is retained"
stack_uuid=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].StackId' --output text | awk -F/ '{print $NF}')
for name in "$stack" "$tarball"; do
  aws cloudformation delete-stack --region "$region" --stack-name "$name"
done
for name in "$stack" "$tarball" "$gated"; do
  aws cloudformation wait stack-delete-complete --region "$region" --stack-name "$name"
done
for r in "$region" "$replica_region" "$bare_region"; do
  printf '    repositories retained in %s:\n' "$r"
  aws ecr describe-repositories --region "$r" \
    --query "repositories[?contains(repositoryName, '$stack_uuid')].repositoryName" --output text \
    | tr '\t' '\n' | sed 's/^/      /'
done
done_step
printf '\nacceptance: passed in %ds\n' "$(($(date +%s) - run_start))"
