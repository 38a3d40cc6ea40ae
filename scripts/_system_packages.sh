# Shared by scripts/test and .ci/run: the system packages some tests need, the code
# sandbox's (bubblewrap, libseccomp) and the browser tests' Debian chromium (Playwright drives
# it and never downloads a browser). Installed when missing, where this runs as root on a
# machine with apt-get; elsewhere those tests skip, saying what to install (under .ci/run,
# TEST_REQUIRE_SYSTEM_PACKAGES=1, they fail instead).
install_system_packages() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    return 0
  fi
  local package missing=()
  for package in bubblewrap libseccomp2 chromium; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "apt-get: installing ${missing[*]} for the sandbox and browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
}
