#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing (apt-get update once if so).
# Extra package names as arguments are installed too (`make bench` asks for wrk).
set -euo pipefail
packages=(chromium fonts-wqy-microhei libharfbuzz-subset0 poppler-utils libpango-1.0-0 libpangoft2-1.0-0 shared-mime-info "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
