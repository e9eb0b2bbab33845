#!/usr/bin/env bash
# Installs TangleWatt on a Raspberry Pi (Raspberry Pi OS / Debian, run as root from a clone of the repo):
# the code under /opt/tanglewatt, state under /var/lib/tanglewatt, config under /etc/tanglewatt, and the
# systemd units. Idempotent: run it again after `git pull` to update. Not exercised by CI (no Pi there).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo $0)" >&2; exit 1; }
command -v node >/dev/null || { echo "install.sh: Node.js 20 or newer is required: apt-get install nodejs npm" >&2; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)

id tanglewatt >/dev/null 2>&1 || useradd --system --home /var/lib/tanglewatt --shell /usr/sbin/nologin tanglewatt
for group in i2c gpio; do getent group "$group" >/dev/null && usermod -aG "$group" tanglewatt; done
install -d -o tanglewatt -g tanglewatt -m 0700 /var/lib/tanglewatt /var/cache/tanglewatt
install -d -m 0755 /etc/tanglewatt /opt/tanglewatt

# The code, without the development state of the clone.
tar -C "$src" --exclude=node_modules --exclude=.tangle --exclude=.git -cf - . | tar -C /opt/tanglewatt -xf -
cd /opt/tanglewatt
npm ci --omit=dev --no-fund --no-audit
# i2c-bus and onoff are native optional dependencies: build them here, on the Pi.
npm rebuild i2c-bus onoff --foreground-scripts || echo "install.sh: i2c-bus/onoff did not build: the agent can only use simulated sensors" >&2

for example in meter-agent/config.example.json; do
  [ -e /etc/tanglewatt/meter-agent.json ] || install -m 0640 -g tanglewatt "$example" /etc/tanglewatt/meter-agent.json
done
install -m 0644 deploy/systemd/tanglewatt-*.service /etc/systemd/system/
systemctl daemon-reload
cat <<MSG
Installed. Next:
  1. sudo -u tanglewatt WALLET_PASSWORD=... node /opt/tanglewatt/wallet-service/bin/wallet-service.mjs init --keystore /var/lib/tanglewatt/keystore.json
  2. write /etc/tanglewatt/wallet-service.json and /etc/tanglewatt/meter-agent.json (see the READMEs), secrets in 0600 files
  3. systemctl enable --now tanglewatt-wallet-service tanglewatt-meter-agent
     (and tanglewatt-tangle on the machine that runs the community's node)
MSG
