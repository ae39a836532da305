#!/usr/bin/env bash
# The real-account acceptance run: what a new user would do, on a real AWS account, timed.
# Not part of the test command or CI: it creates billable resources (see README,
# "Acceptance run on a real account").
#
#   scripts/acceptance.sh --account 123456789012 [--region us-east-1]
#                         [--replica-region us-west-2] [--stack-name cib-acceptance] [--keep]
#
# Steps: bootstrap (home and replica region); deploy samples/acceptance (an arm64 image
# feeding an arm64 Lambda, an image with a replica region, an inline Dockerfile); invoke the
# function; redeploy unchanged (no build may start); change one build argument (exactly one
# build); break one image's Dockerfile (the stack must roll back to the old image); delete
# the stack and list what is retained. Every step prints its time; any failed assertion
# stops the run with exit code 1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

account=""
region="us-east-1"
replica_region="us-west-2"
stack="cib-acceptance"
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --account) account="${2:-}"; shift 2 ;;
    --region) region="${2:-}"; shift 2 ;;
    --replica-region) replica_region="${2:-}"; shift 2 ;;
    --stack-name) stack="${2:-}"; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

fail() { printf 'acceptance: FAILED: %s\n' "$*" >&2; exit 1; }

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
    --parameter-overrides "ReplicaRegion=$replica_region" "$@"
}

step "deploy the stack (three images, first build)"
deploy Greeting=hello BreakWorker=no
done_step

step "invoke the arm64 function"
answer=$(invoke)
printf '    %s\n' "$answer"
[[ "$answer" == *'"hello"'* ]] || fail "the function answered $answer, expected the greeting hello"
done_step

step "redeploy unchanged: no build may start"
before=$(build_count)
deploy Greeting=hello BreakWorker=no
after=$(build_count)
[ "$after" = "$before" ] || fail "an unchanged redeploy started $((after - before)) build(s)"
done_step

step "change one build argument: exactly one build"
before=$(build_count)
deploy Greeting=bonjour BreakWorker=no
after=$(build_count)
[ "$((after - before))" = 1 ] || fail "changing GREETING started $((after - before)) builds, expected 1"
answer=$(invoke)
[[ "$answer" == *'"bonjour"'* ]] || fail "the function answered $answer after the update"
done_step

step "break WorkerImage's Dockerfile: the stack must roll back to the old image"
worker_before=$(output WorkerImageUri)
if deploy Greeting=bonjour BreakWorker=yes; then
  fail "a deploy with a broken Dockerfile succeeded"
fi
status=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].StackStatus' --output text)
[ "$status" = UPDATE_ROLLBACK_COMPLETE ] || fail "stack status $status after the failed update"
[ "$(output WorkerImageUri)" = "$worker_before" ] || fail "WorkerImageUri changed after the rollback"
answer=$(invoke)
[[ "$answer" == *'"bonjour"'* ]] || fail "the function answered $answer after the rollback"
done_step

if [ "$keep" = true ]; then
  step "kept the stack $stack (--keep)"
  exit 0
fi

step "delete the stack and list what is retained"
stack_uuid=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query 'Stacks[0].StackId' --output text | awk -F/ '{print $NF}')
aws cloudformation delete-stack --region "$region" --stack-name "$stack"
aws cloudformation wait stack-delete-complete --region "$region" --stack-name "$stack"
for r in "$region" "$replica_region"; do
  printf '    repositories retained in %s:\n' "$r"
  aws ecr describe-repositories --region "$r" \
    --query "repositories[?contains(repositoryName, '$stack_uuid')].repositoryName" --output text \
    | tr '\t' '\n' | sed 's/^/      /'
done
done_step
printf '\nacceptance: passed in %ds\n' "$(($(date +%s) - run_start))"
