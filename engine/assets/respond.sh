# shellcheck shell=bash
# Answers CloudFormation for this build: the buildspec's only post_build command.
#
# Reads only environment variables (set by the provider, see docs/expansion.md, and by
# CodeBuild): no template value is ever part of this text. The JSON is built by jq from
# --arg values and is kept within CloudFormation's 4096-byte limit by cutting the middle
# out of the Reason (its start says what failed, its end is the log link), never by
# cutting the JSON. CIB_RESPONSE_URL is resolved by CodeBuild from the SSM parameter
# CIB_RESPONSE_PARAMETER, which is deleted once the answer is delivered.
#
# Exit status: 0 once the answer was delivered (or when there is no one to answer), 1 when
# it could not be delivered. post_build then ends FAILED, and the provider, invoked by the
# EventBridge rule on the build's end, answers FAILED instead: a build whose post_build
# phase SUCCEEDED has answered, any other ending is answered by the provider. That is also
# how a build answers whose install or pre_build phase failed (CodeBuild skips post_build
# then).
(
  set -u
  log() { printf 'cib-respond: %s\n' "$*" >&2; }
  if [ -z "${CIB_RESPONSE_URL:-}" ]; then
    log "no CIB_RESPONSE_URL: this build was not started by the provider, nothing to answer"
    exit 0
  fi
  region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
  repository_uri="${CIB_REPOSITORY_URI:-}"
  repository_name="${CIB_REPOSITORY_NAME:-${repository_uri#*/}}"
  tag="${CIB_IMAGE_TAG:-}"
  build_link="${CODEBUILD_BUILD_URL:-${CODEBUILD_BUILD_ID:-this build}}"
  poll_seconds="${CIB_REPLICA_POLL_SECONDS:-15}"
  wait_seconds="${CIB_REPLICA_WAIT_SECONDS:-900}"
  read -r -a replicas <<< "${CIB_REPLICA_REGIONS:-}"

  # The provider's check (macro/provider/src/response_url.rs), for the same URLs: https, no
  # user info or port, CloudFormation's response bucket of this region on the S3 endpoint of
  # its partition, virtual-hosted or path style. CIB_ALLOW_HTTP_RESPONSE_URL=true (tests of
  # this script only; the provider never sets it) accepts any http(s) URL.
  trusted_response_url() {
    local url="$1" region="$2" suffix rest host path bucket endpoint
    if [ "${CIB_ALLOW_HTTP_RESPONSE_URL:-}" = true ]; then
      [[ "$url" == http://* || "$url" == https://* ]]
      return
    fi
    [ -n "$region" ] || return 1
    case "$region" in
      cn-*) suffix=amazonaws.com.cn ;;
      us-isob-*) suffix=sc2s.sgov.gov ;;
      us-isof-*) suffix=csp.hci.ic.gov ;;
      us-iso-*) suffix=c2s.ic.gov ;;
      eu-isoe-*) suffix=cloud.adc-e.uk ;;
      eusc-*) suffix=amazonaws.eu ;;
      *) suffix=amazonaws.com ;;
    esac
    [[ "$url" == https://* ]] || return 1
    rest="${url#https://}"
    host="${rest%%[/?#]*}"
    path="${rest:${#host}}"
    [ -n "$host" ] || return 1
    case "$host" in *@* | *:* | *\\*) return 1 ;; esac
    host="${host,,}"
    bucket="cloudformation-custom-resource-response-${region//-/}"
    for endpoint in "s3.$suffix" "s3.$region.$suffix" "s3-$region.$suffix" \
      "s3.dualstack.$region.$suffix"; do
      if [ "$host" = "$bucket.$endpoint" ] && [[ "$path" == /* ]]; then return 0; fi
      if [ "$host" = "$endpoint" ] && [[ "$path" == "/$bucket/"* ]]; then return 0; fi
    done
    return 1
  }

  image_digest() {
    aws ecr describe-images --region "$1" --repository-name "$repository_name" \
      --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text \
      2> /dev/null
  }

  status=FAILED
  digest=""
  if [ "${CODEBUILD_BUILD_SUCCEEDING:-0}" = "1" ]; then
    digest=$(image_digest "$region")
    if [ -z "$digest" ] || [ "$digest" = "None" ]; then
      digest=""
      reason="The build succeeded but image ${repository_uri}:${tag} is not in ECR. Log: $build_link"
    else
      status=SUCCESS
      reason=""
      # The vulnerability gate (scan.sh), only for an image with Scan, before the replicas.
      if [ -n "${CIB_SCAN_FAIL_ON_SEVERITY:-}" ]; then
        if ! gate=$(printf '%s' "${CIB_SCAN_SCRIPT_GZ:-}" | base64 -d | gunzip); then
          status=FAILED
          reason="The vulnerability gate did not run (CIB_SCAN_SCRIPT_GZ does not decode). Log: $build_link"
        elif ! verdict=$(bash -c "$gate" cib-scan "$digest"); then
          status=FAILED
          reason="${verdict:-The vulnerability gate failed}. Log: $build_link"
        fi
      fi
      deadline=$(($(date +%s) + wait_seconds))
      [ "$status" = SUCCESS ] || replicas=()
      for replica in "${replicas[@]}"; do
        until [ "$(image_digest "$replica")" = "$digest" ]; do
          if [ "$(date +%s)" -ge "$deadline" ]; then
            status=FAILED
            reason="Image ${repository_uri}:${tag} did not reach replica region $replica within ${wait_seconds}s. Log: $build_link"
            break 2
          fi
          sleep "$poll_seconds"
        done
        log "image present in $replica"
      done
    fi
  else
    # The first phase that did not succeed, with CodeBuild's message for it.
    phase=$(aws codebuild batch-get-builds --ids "${CODEBUILD_BUILD_ID:-}" --output json 2> /dev/null \
      | jq -r '[.builds[0].phases[]? | select(.phaseStatus != null and .phaseStatus != "SUCCEEDED")][0]
          | if . == null then ""
            else .phaseType + " (" + .phaseStatus
              + ([.contexts[]?.message // "" | select(. != "" and . != ": ")]
                 | if length > 0 then ": " + .[0] else "" end) + ")"
            end' 2> /dev/null)
    reason="The image build failed${phase:+ in phase $phase}. Log: $build_link"
  fi

  # shellcheck disable=SC2016 # $names below are jq variables, not shell expansions
  body=$(jq -cn \
    --arg status "$status" --arg reason "$reason" \
    --arg physical "${CIB_PHYSICAL_ID:-}" --arg stack "${CIB_STACK_ID:-}" \
    --arg request "${CIB_REQUEST_ID:-}" --arg logical "${CIB_LOGICAL_ID:-}" \
    --arg uri "$repository_uri" --arg tag "$tag" --arg digest "$digest" \
    --arg name "$repository_name" --arg arn "${CIB_REPOSITORY_ARN:-}" \
    --arg home "$region" --arg replicas "${CIB_REPLICA_REGIONS:-}" \
    --argjson max 4096 '
    def replica_uri($r): ($uri | split("/")) as $p
      | ($p[0] | sub("\\.\($home)\\."; ".\($r).")) + "/" + ($p[1:] | join("/"));
    def data: {ImageUri: "\($uri):\($tag)", ImageTag: $tag, ImageDigest: $digest,
               ImageUriWithDigest: "\($uri)@\($digest)", RepositoryName: $name,
               RepositoryArn: $arn, RepositoryUri: $uri}
      + ([$replicas | splits(" +") | select(. != "")]
         | map({key: "ImageUri.\(.)", value: "\(replica_uri(.)):\($tag)"}) | from_entries);
    def body($s; $r): {Status: $s, Reason: $r, PhysicalResourceId: $physical,
                       StackId: $stack, RequestId: $request, LogicalResourceId: $logical}
      + (if $s == "SUCCESS" then {Data: data} else {} end);
    def fits: (tojson | utf8bytelength) <= $max;
    def cut($r; $keep): ($keep / 2 | floor) as $head | ($keep - $head) as $tail
      | $r[0:$head] + " [truncated] " + (if $tail > 0 then $r[($r | length) - $tail:] else "" end);
    def shorten($s; $r; $keep): if (body($s; cut($r; $keep)) | fits) or ($keep <= 0)
      then body($s; cut($r; $keep))
      else shorten($s; $r; [$keep - 64, 0] | max) end;
    if body($status; $reason) | fits then body($status; $reason)
    elif $status == "SUCCESS" then body("FAILED";
      "The response with its attributes would exceed CloudFormation'"'"'s 4096-byte limit (too many replica regions or a very long repository name)")
    else shorten($status; $reason; [$reason | length, $max] | min) end')
  if [ -z "$body" ]; then
    log "could not build the response JSON"
    exit 1
  fi
  if ! trusted_response_url "$CIB_RESPONSE_URL" "$region"; then
    log "the response URL is not CloudFormation's response bucket in ${region:-no region}; not answering"
    exit 1
  fi
  log "answering CloudFormation: $status ${reason}"
  # Bounded: 10 s to connect, 30 s per attempt, 6 attempts with 2 s between them.
  if curl -sS --fail --connect-timeout 10 --max-time 30 --retry 5 --retry-delay 2 \
    --retry-all-errors -X PUT -H 'Content-Type:' --data-binary "$body" \
    "$CIB_RESPONSE_URL" > /dev/null; then
    log "answer delivered"
    if [ -n "${CIB_RESPONSE_PARAMETER:-}" ]; then
      if aws ssm delete-parameter --name "$CIB_RESPONSE_PARAMETER" > /dev/null 2>&1; then
        log "response parameter deleted"
      else
        log "could not delete the response parameter (ignored: it holds an answered URL)"
      fi
    fi
    exit 0
  fi
  log "the answer could not be delivered; the provider answers when the build ends"
  exit 1
)
