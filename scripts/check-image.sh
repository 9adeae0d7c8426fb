#!/usr/bin/env bash
# The image check without a Docker engine: replays the Dockerfile stage by stage in temp folders.
# Each stage gets exactly the files its COPY lines name (from the repository, or --from an earlier
# stage), runs its RUN steps there, and the last stage's CMD is booted as the image would run it
# (its ENV, NODE_ENV=production) until /health/ready answers 200. The image's migration command is
# run first, on the same data folder. Differences from a real build: this machine's Node, not the base
# image's; RUN steps that touch paths outside WORKDIR (creating /data) and USER are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "${server_pid}" ]; then kill "${server_pid}" 2>/dev/null || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT
# RUN steps use a copy of the npm cache: the runtime stage's `npm cache clean` must not empty this machine's.
export npm_config_cache="${work}/npm-cache"
shared_cache=$(npm config get cache --global 2>/dev/null || true)
if [ -d "${shared_cache}/_cacache" ]; then cp -R "${shared_cache}" "${npm_config_cache}"; fi

# Logical lines: continuations joined, comments and blank lines dropped.
mapfile -t lines < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' Dockerfile | grep -Ev '^\s*(#|$)')

stage="" workdir="/app" cmd=""
declare -A stage_env=()
for line in "${lines[@]}"; do
  read -r instruction rest <<<"${line}"
  case "${instruction^^}" in
  FROM)
    stage=$(sed -nE 's/.* [Aa][Ss] +([A-Za-z0-9_-]+)$/\1/p' <<<"${rest}")
    mkdir -p "${work}/${stage}"
    stage_env=()
    echo "--- stage ${stage} (${rest%% *})"
    ;;
  WORKDIR) workdir=${rest} ;;
  ENV)
    for pair in ${rest}; do stage_env[${pair%%=*}]=${pair#*=}; done
    ;;
  COPY)
    read -r -a args <<<"${rest}"
    from="${repo}"
    if [[ ${args[0]} == --from=* ]]; then
      from="${work}/${args[0]#--from=}"
      args=("${args[@]:1}")
    fi
    dst=${args[-1]}
    sources=("${args[@]:0:${#args[@]}-1}")
    target="${work}/${stage}/${dst#./}"
    for src in "${sources[@]}"; do
      src_path="${from}/${src#"${workdir}"/}"
      [ -e "${src_path}" ] || { echo "COPY ${src}: not found (${src_path})" >&2; exit 1; }
      if [[ ${dst} == */ || ${#sources[@]} -gt 1 ]]; then
        mkdir -p "${target}" && cp -R "${src_path}" "${target}/"
      elif [ -d "${src_path}" ]; then
        mkdir -p "${target}" && cp -R "${src_path}/." "${target}/"
      else
        mkdir -p "$(dirname "${target}")" && cp "${src_path}" "${target}"
      fi
    done
    ;;
  RUN)
    if grep -Eq '(^|[ =])/[a-z]' <<<"${rest}"; then
      echo "skipped (outside WORKDIR): RUN ${rest}"
      continue
    fi
    echo "RUN ${rest}"
    (cd "${work}/${stage}" && env NODE_ENV="${stage_env[NODE_ENV]:-}" bash -ec "${rest}")
    ;;
  CMD) cmd=${rest} ;;
  USER | EXPOSE | HEALTHCHECK) echo "skipped: ${instruction} ${rest}" ;;
  *)
    echo "unknown Dockerfile instruction: ${instruction}" >&2
    exit 1
    ;;
  esac
done

runtime="${work}/${stage}"
port=$((20000 + RANDOM % 20000))
image_env=()
for key in "${!stage_env[@]}"; do image_env+=("${key}=${stage_env[${key}]}"); done
# The image's required settings; the data folder and the address are this machine's.
run_env=("${image_env[@]}" "DATA_DIR=${work}/data" "HOST=127.0.0.1" "PORT=${port}"
  "JWT_SECRET=image-check-secret-0123456789abcdef0123456789")

echo "--- the image's migration command"
(cd "${runtime}" && env -i PATH="${PATH}" "${run_env[@]}" node dist/scripts/migrate.js)

echo "--- boot: ${cmd}"
mapfile -t argv < <(node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "${cmd}")
(cd "${runtime}" && exec env -i PATH="${PATH}" "${run_env[@]}" "${argv[@]}") >"${work}/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
  status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${port}/health/ready" || true)
  [ "${status}" = 200 ] && break
  kill -0 "${server_pid}" 2>/dev/null || break
  sleep 0.5
done
if [ "${status}" != 200 ]; then
  echo "the runtime stage did not become ready (last status ${status}):" >&2
  tail -50 "${work}/server.log" >&2
  exit 1
fi
echo "runtime stage ready: /health/ready answered 200"
