#!/usr/bin/env bash
# Runs inside the booted arm64 machine of `deploy/check-arm64.sh --boot`, as a
# oneshot unit after boot, and powers the machine off when done. It watches
# the real microbit-kiosk.service: does it reach READY (active), does the
# watchdog restart it when the app hangs, does "Exit to shell" on the admin
# screen stop it for good, and writes what it saw to /root/vm-check.txt (read
# back from the disk image by check-arm64.sh).
#
# The hang is made by freezing the app with SIGSTOP: its UI loop stops, so it
# stops pinging the watchdog, exactly as a frozen loop would.
#
# "Exit to shell" is done as staff do it, by touch: the machine has no panel,
# so kiosk-vm-touch (deploy/arm64-vm-touch.py) makes one with the kernel's
# uinput, and this script holds the hidden corner, types the PIN and taps
# "Exit to shell" twice at the places deploy/vm_touch_plan.py found with the
# installed app (/usr/local/share/kiosk-vm/touch-plan.txt; the PIN that
# `kiosk set-pin --write` set is in /usr/local/share/kiosk-vm/pin).
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
result display_mode "$(for f in /sys/class/drm/card*-*/modes; do [ -s "$f" ] && printf '%s %s' "${f%/modes}" "$(head -n1 "$f")"; done)"
if wait_for 1200 is_settled && is_active; then
    result ready "yes: active (Type=notify, READY=1 received) by $(uptime_s) s after boot"
    result status_text "$(show StatusText)"
else
    result ready "no: $(systemctl is-active "$UNIT")"
    journalctl -u "$UNIT" -b --no-pager | tail -n 40 >> "$OUT"
    systemctl poweroff
    exit 0
fi

# A touch panel (uinput), made before the restart below so the new app process
# finds it at start, as it would find a panel plugged in at boot.
PLAN=/usr/local/share/kiosk-vm/touch-plan.txt
modprobe uinput 2>/dev/null || true
exec 3> >(exec python3 /usr/local/sbin/kiosk-vm-touch >> /root/vm-touch.log 2>&1)
wait_for 60 grep -q 'touch panel ready' /root/vm-touch.log
result touch_panel "$(grep -m1 -B1 -A4 'check-arm64 pretend touch panel' /proc/bus/input/devices | tr '\n' ' ' || echo 'no uinput device')"

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

# "Exit to shell": hold the corner until the PIN pad is up, type the PIN, OK,
# then "Exit to shell" and "Tap again to stop the exhibit".
at() { awk -v n="$1" '$1 == n { print $2, $3 }' "$PLAN"; }
touch_cmd() { printf '%s\n' "$*" >&3; }
status_is() { [ "$(show StatusText)" = "$1" ]; }
is_down() { local s; s=$(systemctl is-active "$UNIT"); [ "$s" = inactive ] || [ "$s" = failed ]; }
exit_started=$(uptime_s)
restarts=$(show NRestarts)
pid=$(show MainPID)
if ! is_active || [ ! -s "$PLAN" ]; then
    result exit_to_shell "no: not tried (service $(systemctl is-active "$UNIT"), plan $(wc -l < "$PLAN" 2>/dev/null || echo missing))"
else
    touch_cmd down "$(at corner)"
    if wait_for 600 status_is "screen: admin"; then
        touch_cmd up
        result pin_pad "open at $(uptime_s) s (held the corner)"
        sleep 3
        for digit in $(sed 's/./& /g' /usr/local/share/kiosk-vm/pin); do
            touch_cmd tap "$(at "pin_$digit")"
            sleep 2
        done
        touch_cmd tap "$(at pin_ok)"
        sleep 5
        touch_cmd tap "$(at exit)"
        sleep 3
        touch_cmd tap "$(at exit)"
        if wait_for 600 is_down; then
            stopped_at=$(uptime_s)
            # RestartSec is 5 s: a unit that would come back does so well within 60 s.
            sleep 60
            # SuccessExitStatus=64: down as "inactive", not "failed" (kept out of systemctl --failed).
            if [ "$(systemctl is-active "$UNIT")" = inactive ] && [ "$(show NRestarts)" = "$restarts" ]; then
                result exit_to_shell "yes: pid $pid exited with status $(show ExecMainStatus) at $stopped_at s, still $(systemctl is-active "$UNIT") (Result=$(show Result), SubState=$(show SubState)) 60 s later, NRestarts $restarts -> $(show NRestarts)"
            else
                result exit_to_shell "no: $(systemctl is-active "$UNIT") (Result=$(show Result)), status $(show ExecMainStatus), NRestarts $restarts -> $(show NRestarts)"
            fi
            result exit_status_line "$(systemctl status "$UNIT" --no-pager 2>/dev/null | grep -m1 'Active:' | sed 's/^ *//')"
        else
            result exit_to_shell "no: still $(systemctl is-active "$UNIT") after the taps (status text: $(show StatusText))"
        fi
    else
        touch_cmd up
        result exit_to_shell "no: the PIN pad did not open (status text: $(show StatusText))"
    fi
fi
result exit_to_shell_s "$(awk -v a="$exit_started" -v b="$(uptime_s)" 'BEGIN { printf "%.0f", b - a }')"
exec 3>&-
journalctl -u "$UNIT" -b --no-pager | tail -n 40 >> "$OUT"
systemctl poweroff
