# shellcheck shell=bash
# The vulnerability gate: run by respond.sh, after the push, for an image with `Scan`.
#
# Usage: bash -c "$script" cib-scan <image digest>
#
# Waits (at most CIB_SCAN_WAIT_SECONDS) until ECR's scan of the image is complete, then
# counts the findings at or above CIB_SCAN_FAIL_ON_SEVERITY whose name is not in
# CIB_SCAN_IGNORE_FINDINGS (space-separated). DescribeImageScanFindings answers for basic
# scanning (`findings`) and enhanced scanning (`enhancedFindings`, named by their
# vulnerability id) alike. The gate fails closed: a scan that fails, an image ECR cannot
# scan, or a scan that does not complete in time fails it too.
#
# Exit status 0: the image passed. Exit status 1: it did not; stdout holds the reason (the
# counts by severity and the first few finding names), and the image's tag has been
# removed, so no later deploy takes the image as already built.
#
# Reads only environment variables and its argument; no template value is part of this
# text.
(
  set -u
  log() { printf 'cib-scan: %s\n' "$*" >&2; }
  digest="${1:-}"
  region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
  repository="${CIB_REPOSITORY_NAME:-}"
  tag="${CIB_IMAGE_TAG:-}"
  threshold="${CIB_SCAN_FAIL_ON_SEVERITY:-}"
  poll_seconds="${CIB_SCAN_POLL_SECONDS:-10}"
  wait_seconds="${CIB_SCAN_WAIT_SECONDS:-600}"
  image="${CIB_REPOSITORY_URI:-$repository}:${tag}"

  # Removes the tag where it names this image: at home, then in each replica region once
  # replication has brought the image there (at most CIB_REPLICA_WAIT_SECONDS), so that a
  # rebuild of the same inputs is not refused by a replica's immutable tag. A replica tag
  # that names another image is left alone.
  remove_tag() {
    aws ecr batch-delete-image --region "$1" --repository-name "$repository" \
      --image-ids "imageTag=$tag" --output json 2> /dev/null \
      | jq -e '(.imageIds | length) > 0' > /dev/null 2>&1
  }
  replica_digest() {
    aws ecr describe-images --region "$1" --repository-name "$repository" \
      --image-ids "imageTag=$tag" --query 'imageDetails[0].imageDigest' --output text 2> /dev/null
  }
  untag() {
    if remove_tag "$region"; then
      log "tag $tag removed from $repository"
      printf '; its tag was removed, so no deploy uses it'
    else
      log "could not remove tag $tag from $repository"
      printf '; its tag could not be removed'
    fi
    read -r -a replicas <<< "${CIB_REPLICA_REGIONS:-}"
    replica_deadline=$(($(date +%s) + ${CIB_REPLICA_WAIT_SECONDS:-900}))
    for replica in "${replicas[@]}"; do
      until [ "$(replica_digest "$replica")" = "$digest" ]; do
        [ "$(date +%s)" -lt "$replica_deadline" ] || continue 2
        sleep "${CIB_REPLICA_POLL_SECONDS:-15}"
      done
      if remove_tag "$replica"; then
        log "tag $tag removed in $replica"
      else
        printf ' (not in %s)' "$replica"
      fi
    done
  }
  refuse() {
    printf '%s' "$1"
    untag
    exit 1
  }

  if [ -z "$digest" ] || [ -z "$threshold" ]; then
    refuse "The vulnerability gate of ${image} has no digest or no FailOnSeverity"
  fi
  deadline=$(($(date +%s) + wait_seconds))
  while :; do
    if answer=$(aws ecr describe-image-scan-findings --region "$region" \
      --repository-name "$repository" --image-id "imageDigest=$digest" --output json 2>&1); then
      state=$(printf '%s' "$answer" | jq -r '.imageScanStatus.status // ""' 2> /dev/null)
      case "$state" in
        COMPLETE | ACTIVE) break ;;
        IN_PROGRESS | PENDING | "") ;;
        *)
          description=$(printf '%s' "$answer" | jq -r '.imageScanStatus.description // ""')
          refuse "The scan of ${image} ended ${state}${description:+: $description}; the vulnerability gate fails closed"
          ;;
      esac
    elif ! printf '%s' "$answer" | grep -q 'ScanNotFoundException'; then
      refuse "The vulnerability gate could not read the scan findings of ${image}: $(printf '%s' "$answer" | tail -n 1)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      refuse "The scan of ${image} did not complete within ${wait_seconds}s (is scan on push or enhanced scanning on for the repository?)"
    fi
    log "waiting for the scan of $digest (${state:-not started})"
    sleep "$poll_seconds"
  done

  # shellcheck disable=SC2016 # $names below are jq variables, not shell expansions
  verdict=$(printf '%s' "$answer" | jq -r \
    --arg threshold "$threshold" --arg ignore "${CIB_SCAN_IGNORE_FINDINGS:-}" --arg image "$image" '
    def rank: {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1}[.] // 0;
    ($ignore | split(" ") | map(select(. != ""))) as $ignored
    | [(.imageScanFindings.findings[]? | {name: (.name // "unnamed"), severity}),
       (.imageScanFindings.enhancedFindings[]?
        | {name: (.packageVulnerabilityDetails.vulnerabilityId // .title // "unnamed"), severity})]
    | map(select((.severity | rank) >= ($threshold | rank))) as $over
    | ($over | map(select(.name as $n | $ignored | index($n) | not))) as $failing
    | if ($failing | length) == 0 then ""
      else ($failing | group_by(.name) | map({name: .[0].name, rank: (map(.severity | rank) | max)})
            | sort_by(-.rank, .name) | map(.name)) as $names
      | "Image \($image) failed the vulnerability gate (FailOnSeverity \($threshold)): "
        + "\($failing | length) finding(s), "
        + ($failing | group_by(.severity) | sort_by(-(.[0].severity | rank))
           | map("\(.[0].severity) \(length)") | join(", "))
        + (if ($over | length) > ($failing | length)
           then " (\(($over | length) - ($failing | length)) more ignored by IgnoreFindings)" else "" end)
        + ": " + ($names[0:5] | join(", "))
        + (if ($names | length) > 5 then " and \(($names | length) - 5) more" else "" end)
      end')
  status=$?
  if [ "$status" -ne 0 ]; then
    refuse "The vulnerability gate could not read the scan findings of ${image}"
  fi
  if [ -n "$verdict" ]; then
    refuse "$verdict"
  fi
  log "image $digest passed the vulnerability gate (FailOnSeverity $threshold)"
  exit 0
)
