#!/usr/bin/env bash
# Installs TangleWatt on a Raspberry Pi (Raspberry Pi OS Bookworm / Debian 12; run as root from a clone):
# build tools, the code under /opt/tanglewatt built to plain JavaScript (npm run build), the native I²C
# and GPIO modules (built and loaded, or the install fails), I²C enabled, the clock waited for at boot,
# state under /var/lib/tanglewatt, a config template under /etc/tanglewatt, and the systemd units.
# Idempotent: run it again after `git pull` to update; an existing config or keystore is never touched.
# ROOT=/some/dir installs under that directory instead of / (the install test does this).
set -euo pipefail

ROOT=${ROOT:-}
NODE_MIN=20.10
NODESOURCE='https://github.com/nodesource/distributions (e.g. curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs)'
src=$(cd "$(dirname "$0")/../.." && pwd)
opt=$ROOT/opt/tanglewatt
etc=$ROOT/etc/tanglewatt
state=$ROOT/var/lib/tanglewatt

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || [ -n "$ROOT" ] || fail "run as root (sudo $0)"

# Node: Debian's own package is 18, too old for the agent (and the SDK's wasm build).
command -v node >/dev/null || fail "Node.js >= $NODE_MIN is required and none is installed: get it from NodeSource, $NODESOURCE"
node_version=$(node -p 'process.versions.node')
if [ "$(printf '%s\n%s\n' "$NODE_MIN" "$node_version" | sort -V | head -n 1)" != "$NODE_MIN" ]; then
  fail "Node.js >= $NODE_MIN is required, found $node_version (Debian's apt has 18): get it from NodeSource, $NODESOURCE"
fi

# Compilers for the native modules; i2c-tools for i2cdetect.
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential python3 i2c-tools

getent passwd tanglewatt >/dev/null ||
  useradd --system --home-dir /var/lib/tanglewatt --shell /usr/sbin/nologin tanglewatt
for group in i2c gpio; do
  if getent group "$group" >/dev/null; then usermod -aG "$group" tanglewatt; fi
done
install -d -m 0750 "$state" "$state/meter-agent" "$ROOT/var/cache/tanglewatt"
chown tanglewatt:tanglewatt "$state" "$state/meter-agent" "$ROOT/var/cache/tanglewatt"
install -d -m 0755 "$etc" "$opt" "$ROOT/etc/systemd/system"

# The code, without the development state of the clone; then production dependencies and the build.
tar -C "$src" --exclude=./node_modules --exclude='*/node_modules' --exclude=./.tangle --exclude=./.git \
  --exclude=./.cache --exclude='*/dist' -cf - . | tar -C "$opt" -xf -
(
  cd "$opt"
  npm ci --omit=dev --no-fund --no-audit
  # i2c-bus is an optional dependency: npm skips it silently when its build fails.
  npm rebuild i2c-bus --foreground-scripts
  npm run build
)
(cd "$opt/meter-agent" && node -e "require('i2c-bus')") >/dev/null 2>&1 ||
  fail "the native module i2c-bus does not load: check that build-essential and python3 installed, then run: cd /opt/tanglewatt && npm rebuild i2c-bus --foreground-scripts"

# I²C on: raspi-config where it exists (it also loads i2c-dev), else the firmware config and the module.
if command -v raspi-config >/dev/null; then
  [ "$(raspi-config nonint get_i2c)" = 0 ] || raspi-config nonint do_i2c 0
else
  config_txt=$ROOT/boot/firmware/config.txt
  [ -e "$config_txt" ] || config_txt=$ROOT/boot/config.txt
  if [ -e "$config_txt" ] && ! grep -qx 'dtparam=i2c_arm=on' "$config_txt"; then
    echo 'dtparam=i2c_arm=on' >>"$config_txt"
    echo "install.sh: enabled I2C in $config_txt: reboot for it to take effect" >&2
  fi
  install -d -m 0755 "$ROOT/etc/modules-load.d"
  [ -e "$ROOT/etc/modules-load.d/i2c-dev.conf" ] || echo 'i2c-dev' >"$ROOT/etc/modules-load.d/i2c-dev.conf"
fi

# A Pi has no real-time clock: time-sync.target (which the units wait for) waits for NTP only with this.
systemctl enable systemd-time-wait-sync.service

# Config templates; what is there already (edited configs, the keystore) is never replaced.
if [ ! -e "$etc/meter-agent.json" ]; then
  install -m 0640 "$src/deploy/pi/meter-agent.pi.json" "$etc/meter-agent.json"
  chgrp tanglewatt "$etc/meter-agent.json"
fi
install -m 0644 "$src"/deploy/systemd/tanglewatt-*.service "$ROOT/etc/systemd/system/"
systemctl daemon-reload

cat <<MSG
Installed. Next:
  1. sudo -u tanglewatt WALLET_PASSWORD=... node /opt/tanglewatt/wallet-service/dist/wallet-service.mjs init --keystore /var/lib/tanglewatt/keystore.json
  2. edit /etc/tanglewatt/meter-agent.json (meterId, parties, sensors, price); write /etc/tanglewatt/wallet-service.json
     (see the READMEs); secrets in 0600 files or /etc/tanglewatt/*.env
  3. systemctl enable --now tanglewatt-wallet-service tanglewatt-meter-agent
     (and tanglewatt-tangle on the machine that runs the community's node)
MSG
