# Shared by the .ci/install-*.sh scripts (sourced, not run): installing Debian packages as root or through
# `sudo -n`, and stopping a service a package starts (the tests start their own servers on their own ports).

# apt_install WHO PACKAGE...: install the packages; WHO names the calling script in the error line.
apt_install() {
  local who="$1"
  shift
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "$who: need root or sudo to install $*" >&2
      exit 1
    fi
    sudo=(sudo -n)
  fi
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "$@"
}

# stop_service WHO SERVICE: stop SERVICE when systemd runs it; a failure is reported, not fatal.
stop_service() {
  local who="$1" service="$2"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    ${sudo[@]+"${sudo[@]}"} systemctl stop "$service" || echo "$who: could not stop the $service service" >&2
  fi
}
