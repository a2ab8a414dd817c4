#!/bin/sh
# chromium.sh makes sure Debian's Chromium is installed, for the browser
# tests (web/tag). It does nothing when /usr/bin/chromium is there, so it is
# safe to run before every test run. It needs root (or sudo) and Debian's
# package mirror the first time.
set -eu
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi
echo "installing Debian's chromium for the browser tests" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version >&2
