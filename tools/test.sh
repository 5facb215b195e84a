#!/bin/sh
# The README's test command: installs what is missing, builds with -Werror and runs every
# test; then builds again with ASan+UBSan and runs the suite a second time.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

sh tools/install-deps.sh

build() {
    dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DENRICHD_WERROR=ON "$@"
    cmake --build "$dir" -j "$JOBS"
}

build "$ROOT/build"
ctest --test-dir "$ROOT/build" --output-on-failure -j "$JOBS"

if [ "${ENRICHD_SKIP_SANITIZE:-0}" != 1 ]; then
    build "$ROOT/build-asan" -DENRICHD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir "$ROOT/build-asan" --output-on-failure -j "$JOBS"
fi
