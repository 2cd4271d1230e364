"""What an admin can change about the journey, as one plain value the session holds.

Built from the appliance's configuration file at start-up (see
``kiosk.system.config``); the admin screen edits it while the kiosk runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SessionSettings:
    idle_timeout_s: float = 60.0  # no touch and no movement for this long ...
    idle_countdown_s: float = 10.0  # ... then a visible countdown this long, then reset
    keep_data_between_visitors: bool = False
    sound_enabled: bool = True
    sound_volume: float = 0.6
    rotation: int = 0  # degrees clockwise: 0, 90, 180, 270
    fixed_pattern: str = ""  # a board paired by the admin for every visitor ("" = none)
    link_kind: str = "auto"  # auto | ble | serial | simulated
    serial_port: str = "auto"
    radio_remote_id: str = ""
    pin_hash: str = ""  # empty: the admin screen is unlocked by the default PIN
    countdown_s: float = 3.0  # 3-2-1 before each recording
    record_s: float = 1.0  # length of one recording
    gap_s: float = 1.0  # pause between recordings of "Record 5 in a row"
    min_recordings_per_action: int = 3
    # A restart (crash, OOM kill, watchdog) within this long of the visitor's last
    # touch comes back to their work (see kiosk.session.visitor_data).
    resume_window_s: float = 300.0


IDLE_TIMEOUT_CHOICES = (30.0, 60.0, 120.0, 300.0)
ROTATIONS = (0, 90, 180, 270)
