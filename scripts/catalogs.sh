#!/usr/bin/env bash
# Issue 17: after changing words on screen, re-extract them and update every catalog.
#
#   scripts/catalogs.sh            extract -> kiosk/locale/kiosk.pot, update each .po, compile
#
# Then translate what the update marked: new entries have an empty msgstr and
# changed ones are "#, fuzzy" (tests/test_catalogs.py fails until both are done).
# Entries whose English is gone are dropped (--ignore-obsolete): an unused
# translation only misleads. File names are kept, line numbers are not, so a
# catalog does not change whenever code moves.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -x .venv/bin/pybabel ] || scripts/setup.sh
pybabel=.venv/bin/pybabel
mkdir -p kiosk/locale
pot=kiosk/locale/kiosk.pot
before=$(mktemp)
trap 'rm -f "$before"' EXIT
[ -f "$pot" ] && cp "$pot" "$before"
$pybabel -q extract -F babel.cfg -o "$pot" --add-location=file --sort-output \
    --no-wrap --project=microbit-ml-kiosk --copyright-holder="microbit-ml-kiosk" \
    -c "Translators:" .
# Only the date changed: keep the file as it was (no churn, nothing for a merge to trip on).
if [ -s "$before" ] && diff -q <(grep -v '^"POT-Creation-Date' "$before") \
        <(grep -v '^"POT-Creation-Date' "$pot") >/dev/null; then
    cp "$before" "$pot"
fi
# Every language in kiosk/i18n.py's LANGUAGES but the source (English).
codes=$(.venv/bin/python -c 'from kiosk.i18n import LANGUAGES, SOURCE_LANGUAGE as en
print(" ".join(c for c in LANGUAGES if c != en))')
for code in $codes; do
    $pybabel -q update -D kiosk -i kiosk/locale/kiosk.pot -d kiosk/locale -l "$code" \
        --init-missing --no-wrap --ignore-obsolete --previous --ignore-pot-creation-date
done
$pybabel -q compile -D kiosk -d kiosk/locale --statistics
