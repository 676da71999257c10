# Sourced by ./tools/run and ./tools/test: installs the Debian packages the build needs (as root;
# otherwise prints the one apt-get line and stops) and builds into build/.

# Packages every build needs; the test command adds its own (clang for fuzzing, ...).
MESOS_PACKAGES="cmake make gcc pkg-config protobuf-c-compiler libprotobuf-c-dev libnng-dev
libev-dev libhttp-parser-dev libjansson-dev libcmocka-dev uthash-dev liblmdb-dev
libcurl4-openssl-dev libarchive-dev"

# ensure_packages PKG...: installs what is missing.
ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "Missing Debian packages; install them with:" >&2
        echo "  sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "Installing ${missing[*]}" >&2
    # A fresh machine has no package lists yet; a failed first try gets one update and a retry.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# build_tree DIR [cmake args...]: configures and builds the project into DIR.
build_tree() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}
