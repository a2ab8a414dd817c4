#!/bin/bash
# agent-sdk.sh makes sure Node.js and npm are installed and that LivePerson's
# node-agent-sdk 1.2.0 is in .cache/agent-sdk under the repo root, for the
# tests that run a bot written with that SDK against Sightline. It installs
# Debian's nodejs and npm when node (or npm) is missing, which needs root (or
# sudo) and Debian's package mirror, and it installs the SDK from the npm
# registry only when the cached copy is not version 1.2.0, so it is safe to
# run before every test run. It prints the directory to use as NODE_PATH.
set -euo pipefail

version=1.2.0
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$root/.cache/agent-sdk
pkg=$prefix/node_modules/node-agent-sdk/package.json

sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	want=""
	command -v node >/dev/null 2>&1 || want=" nodejs"
	command -v npm >/dev/null 2>&1 || want="$want npm"
	echo "installing Debian's$want for the agent SDK tests" >&2
	$sudo apt-get update -qq
	# shellcheck disable=SC2086 # $want is a list of package names
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $want >/dev/null
fi

have=""
if [ -f "$pkg" ]; then
	have=$(node -p 'require(process.argv[1]).version' "$pkg" 2>/dev/null || true)
fi
if [ "$have" != "$version" ]; then
	echo "installing node-agent-sdk@$version into $prefix" >&2
	mkdir -p "$prefix"
	# A package.json of its own keeps npm from walking up to another project.
	if [ ! -f "$prefix/package.json" ]; then
		printf '{\n  "name": "sightline-agent-sdk",\n  "private": true\n}\n' >"$prefix/package.json"
	fi
	npm install --prefix "$prefix" --no-audit --no-fund --save-exact --loglevel=error "node-agent-sdk@$version" >&2
	have=$(node -p 'require(process.argv[1]).version' "$pkg")
	if [ "$have" != "$version" ]; then
		echo "agent-sdk.sh: installed node-agent-sdk is $have, not $version" >&2
		exit 1
	fi
fi
echo "$prefix/node_modules"
