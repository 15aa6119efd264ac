#!/usr/bin/env bash
# Debian packages: ffmpeg (pydub decodes voice notes through it); espeak-ng (tests speak requests to the bot).
set -euo pipefail
command -v ffmpeg >/dev/null && command -v espeak-ng >/dev/null && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg espeak-ng >/dev/null
