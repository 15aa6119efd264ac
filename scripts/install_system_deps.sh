#!/usr/bin/env bash
# Debian packages: ffmpeg (pydub decodes voice notes through it); espeak-ng (tests speak requests to the bot);
# postgresql (tests run the event log on a throw-away server on 127.0.0.1); chromium (the web chat's tests drive it
# headless through Playwright) with fonts-noto-cjk and fonts-noto-color-emoji, so Chinese and the buttons' emoji render in its screenshots.
set -euo pipefail
command -v ffmpeg >/dev/null && command -v espeak-ng >/dev/null && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
  && command -v chromium >/dev/null && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  ffmpeg espeak-ng postgresql chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null
