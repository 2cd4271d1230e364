#!/usr/bin/env bash
# Runs inside the booted arm64 machine of `deploy/check-arm64.sh --boot`, as a
# oneshot unit after boot, and powers the machine off when done. It watches
# the real microbit-kiosk.service: does it reach READY (active), does the
# watchdog restart it when the app hangs, and writes what it saw to
# /root/vm-check.txt (read back from the disk image by check-arm64.sh).
#
# The hang is made by freezing the app with SIGSTOP: its UI loop stops, so it
# stops pinging the watchdog, exactly as a frozen loop would.
set -uo pipefail

OUT=/root/vm-check.txt
UNIT=microbit-kiosk.service
: > "$OUT"
result() { printf '%s\t%s\n' "$1" "$2" >> "$OUT"; printf 'vm-check: %s: %s\n' "$1" "$2" > /dev/console; }
show() { systemctl show -p "$1" --value "$UNIT"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# wait_for SECONDS COMMAND...: poll until the command succeeds, or give up.
wait_for() {
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || return 1
        sleep 2
    done
}
is_active() { [ "$(systemctl is-active "$UNIT")" = active ]; }
is_settled() { local s; s=$(systemctl is-active "$UNIT"); [ "$s" = active ] || [ "$s" = failed ]; }

result booted_s "$(uptime_s)"
result kernel "$(uname -r) $(uname -m)"
result drm "$(find /dev/dri -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)"
if wait_for 1200 is_settled && is_active; then
    result ready "yes: active (Type=notify, READY=1 received) by $(uptime_s) s after boot"
    result status_text "$(show StatusText)"
else
    result ready "no: $(systemctl is-active "$UNIT")"
    journalctl -u "$UNIT" -b --no-pager | tail -n 40 >> "$OUT"
    systemctl poweroff
    exit 0
fi

# The watchdog: freeze the app and wait for systemd to kill and restart it.
restarts=$(show NRestarts)
pid=$(show MainPID)
kill -STOP "$pid"
result hang "froze the app (pid $pid) with SIGSTOP at $(uptime_s) s"
new_process() { [ "$(show MainPID)" != "$pid" ] && [ "$(show NRestarts)" -gt "$restarts" ] && is_active; }
if wait_for 900 new_process; then
    result watchdog_restart "yes: pid $pid -> $(show MainPID), NRestarts $restarts -> $(show NRestarts), active again at $(uptime_s) s"
else
    result watchdog_restart "no: $(systemctl is-active "$UNIT"), pid $(show MainPID), NRestarts $(show NRestarts)"
fi
result watchdog_journal "$(journalctl -u "$UNIT" -b --no-pager | grep -i -m1 'watchdog timeout' || echo 'no watchdog line')"
journalctl -u "$UNIT" -b --no-pager | tail -n 30 >> "$OUT"
systemctl poweroff
