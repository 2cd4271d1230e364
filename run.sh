#!/usr/bin/env bash
# Runs the kiosk. Sets up .venv on first use. With no display (no DISPLAY,
# no WAYLAND_DISPLAY, no /dev/dri), it runs the scripted demo headless and
# writes its screenshots and summary.json to ./demo-out.
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
"$root/scripts/setup.sh"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ ! -e /dev/dri/card0 ] && [ ! -e /dev/dri/card1 ]; then
    echo "run: no display found, running the scripted demo headless into $root/demo-out"
    exec env SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy "$root/.venv/bin/kiosk" demo --headless --out "$root/demo-out" "$@"
fi
exec "$root/.venv/bin/kiosk" "$@"
