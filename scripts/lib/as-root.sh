# Sourced by the scripts that need root (install-deps, demo, test): the README's commands then work the
# same in a root shell (a fresh Debian has no sudo) and for a user with sudo, who is asked once.
# Usage: source "$repo/scripts/lib/as-root.sh"; run_as_root "$@"
run_as_root() {
  [[ $EUID -eq 0 ]] && return 0
  local self
  self=$(readlink -f "$0")
  if command -v sudo >/dev/null 2>&1; then
    echo "$(basename "$self"): needs root; running it again with sudo" >&2
    # -E keeps BUILD_DIR, JOBS, PREFIX and friends where the sudoers policy allows it.
    exec sudo -E -- "$self" "$@"
  fi
  echo "$(basename "$self"): must run as root, and sudo is not installed: run it from a root shell (su -)" >&2
  exit 1
}
