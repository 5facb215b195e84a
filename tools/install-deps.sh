#!/bin/sh
# Installs the Debian 12 packages enrichd needs to build, test and run the demo, only when
# something is missing. Runs apt-get as root (or through sudo).
set -eu

PACKAGES="build-essential cmake pkg-config clang libuv1-dev librdkafka-dev libjansson-dev \
libcriterion-dev libutf8proc-dev libinih-dev libmicrohttpd-dev zlib1g-dev kcat python3 \
python3-jsonschema systemd libcld2-dev groff-base man-db dpkg-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
